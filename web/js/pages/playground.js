// Playground: chat with any model, custom model or deployment, the answer streamed token by
// token (POST /ui/api/chat answers server-sent events), and optionally a second model answering
// the same conversation beside it.
import { getJson, post } from '../api.js';
import { h, clear, errorBox } from '../dom.js';

// Reads `data:` / `event:` blocks from a fetch() body as they arrive.
async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

function modelSelect(id, models, withNone) {
  const group = (label, items) => items.length ? h('optgroup', { label }, items.map((m) => h('option', { value: m.id }, m.name || m.id))) : null;
  return h('select', { id },
    withNone ? h('option', { value: '' }, '— none —') : null,
    group('Deployments', models.deployments), group('Custom models', models.custom), group('Foundation models', models.foundation));
}

export async function render(main) {
  const models = await getJson('models');
  const first = modelSelect('model-a', models, false), second = modelSelect('model-b', models, true);
  const prompt = h('textarea', { id: 'prompt', rows: 3, maxlength: 32768, required: true });
  const maxTokens = h('input', { id: 'max-tokens', type: 'number', min: 1, max: 4096, value: 128 });
  const temperature = h('input', { id: 'temperature', type: 'number', min: 0, max: 1, step: 0.1, value: 0.7 });
  const columns = h('div.answers');
  const history = { a: [], b: [] };
  const chats = { a: h('div.chat', { id: 'chat-a', 'aria-live': 'polite' }), b: h('div.chat', { id: 'chat-b', 'aria-live': 'polite' }) };
  const send = h('button', { type: 'submit', id: 'send' }, 'Send');
  const form = h('form', { onsubmit: (e) => { e.preventDefault(); ask(); } },
    h('div.row', h('div', h('label', { for: 'model-a' }, 'Model'), first), h('div', h('label', { for: 'model-b' }, 'Compare with'), second),
      h('div', h('label', { for: 'max-tokens' }, 'Max tokens'), maxTokens), h('div', h('label', { for: 'temperature' }, 'Temperature'), temperature)),
    h('label', { for: 'prompt' }, 'Message'), prompt, h('p', send, ' ', h('button.secondary', { type: 'button', onclick: reset }, 'New chat')));
  main.append(h('h1', 'Playground'), h('section.panel', form), columns);

  function reset() {
    history.a = []; history.b = [];
    clear(chats.a); clear(chats.b);
    layout();
  }
  function layout() {
    clear(columns).append(h('section.panel', h('h2', 'Answers of ', h('span.mono', first.value)), chats.a),
      second.value ? h('section.panel', h('h2', 'Answers of ', h('span.mono', second.value)), chats.b) : null);
  }
  first.addEventListener('change', reset);
  second.addEventListener('change', reset);
  layout();

  async function converse(side, model, text) {
    const chat = chats[side];
    history[side].push({ role: 'user', text });
    chat.append(h('div.msg.user', text));
    const bubble = h('div.msg.assistant', { 'data-streaming': '1' }), meta = h('span.meta', 'waiting for a slot…');
    chat.append(h('div', bubble, meta));
    let answer = '';
    try {
      const response = await post('chat', { model, messages: history[side], maxTokens: Number(maxTokens.value), temperature: Number(temperature.value) });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error(body && body.error ? body.error.message : response.statusText);
      }
      meta.textContent = 'streaming…';
      for await (const { event, data } of events(response)) {
        if (event === 'message') { answer += data.text; bubble.textContent = answer; chat.scrollTop = chat.scrollHeight; }
        else if (event === 'end') meta.textContent = `${data.stopReason} · ${data.outputTokens} tokens · first text after ${data.firstTextMs} ms · ${data.latencyMs} ms`;
        else if (event === 'error') throw new Error(data.message);
      }
      history[side].push({ role: 'assistant', text: answer || ' ' });
    } catch (e) {
      meta.textContent = '';
      bubble.replaceWith(errorBox(e));
      history[side].pop();
    }
    bubble.dataset.streaming = '0';
  }

  async function ask() {
    const text = prompt.value.trim();
    if (!text) return;
    prompt.value = '';
    send.disabled = true;
    const asks = [converse('a', first.value, text)];
    if (second.value) asks.push(converse('b', second.value, text));
    await Promise.all(asks);
    send.disabled = false;
    prompt.focus();
  }
  return {};
}
