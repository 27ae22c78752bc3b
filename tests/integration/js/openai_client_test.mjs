// The OpenAI-compatible wire as the official `openai` npm package sees it, against `lathe serve`
// (run by ../openai_sdk_js_test.py, which starts the server and installs the package). Reads
// OPENAI_BASE_URL, OPENAI_API_KEY, TRAIN_FILE. Prints one line per step; the first failure
// throws, naming the step.
import fs from "node:fs";
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const MODEL = "lathe.default-v1";

async function step(name, fn) {
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    console.log("FAIL " + name);
    throw e;
  }
}

async function expectError(status, code, fn) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, "not an APIError: " + e);
    assert.equal(e.status, status, e.message);
    if (code !== undefined) assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail("expected an error " + status);
}

async function chatStream(model, content) {
  const stream = await client.chat.completions.create({
    model, messages: [{ role: "user", content }], max_tokens: 12, stream: true, stream_options: { include_usage: true },
  });
  let text = "", finish = null, usage = null, role = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish, usage, role };
}

await step("models.list names the default model", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes(MODEL), ids.join(","));
  assert.equal((await client.models.retrieve(MODEL)).id, MODEL);
});

let plain;
await step("chat.completions.create with a system prompt, seed and sampling", async () => {
  const ask = () => client.chat.completions.create({
    model: MODEL, max_tokens: 16, temperature: 0.8, top_p: 0.95, seed: 7, n: 2,
    messages: [{ role: "system", content: "Tell a story." }, { role: "user", content: "Once upon a time" }],
  });
  plain = await ask();
  assert.equal(plain.object, "chat.completion");
  assert.equal(plain.choices.length, 2);
  assert.equal(plain.choices[0].message.role, "assistant");
  assert.ok(plain.choices[0].message.content.length > 0);
  assert.ok(["stop", "length"].includes(plain.choices[0].finish_reason));
  assert.ok(plain.usage.prompt_tokens > 0 && plain.usage.completion_tokens > 0);
  assert.equal(plain.usage.total_tokens, plain.usage.prompt_tokens + plain.usage.completion_tokens);
  const again = await ask();  // the same seed, the same answers
  assert.deepEqual(again.choices.map((c) => c.message.content), plain.choices.map((c) => c.message.content));
});

await step("chat.completions.create stream: true (deltas, finish, usage chunk)", async () => {
  const s = await chatStream(MODEL, "Once upon a time");
  assert.equal(s.role, "assistant");
  assert.ok(s.text.length > 0);
  assert.ok(["stop", "length"].includes(s.finish));
  assert.ok(s.usage && s.usage.completion_tokens > 0, JSON.stringify(s.usage));
});

await step("a stream the client abandons ends, and the server answers the next request", async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: MODEL, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 400, stream: true },
    { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const _ of stream) {
      if (++chunks === 2) controller.abort();
    }
  } catch (e) {
    assert.ok(e.name === "APIUserAbortError" || e.name === "AbortError", String(e));
  }
  const next = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
  assert.ok(next.choices[0].message.content !== undefined);
});

await step("completions.create (a verbatim prompt)", async () => {
  const c = await client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  assert.equal(c.object, "text_completion");
  assert.ok(c.choices[0].text.length > 0);
});

await step("embeddings.create: mean-pooled hidden states, one per input", async () => {
  const e = await client.embeddings.create({ model: MODEL, input: ["a cat sat", "a dog ran", "a cat sat"] });
  assert.equal(e.data.length, 3);
  const [a, b, c] = e.data.map((d) => d.embedding);
  assert.ok(a.length > 0 && a.length === b.length);
  assert.deepEqual(a, c);  // the same text, the same vector
  assert.notDeepEqual(a, b);
  assert.ok(e.usage.prompt_tokens > 0);
  // The SDK asks for base64 unless told; floats when asked give the same numbers.
  const floats = await client.embeddings.create({ model: MODEL, input: "a cat sat", encoding_format: "float" });
  assert.deepEqual(floats.data[0].embedding.map((x) => Math.fround(x)), a);
});

await step("errors in OpenAI's shape: unknown model, bad input, bad key", async () => {
  const missing = await expectError(404, "model_not_found", () =>
    client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }));
  assert.equal(missing.param, "model");
  const bad = await expectError(400, undefined, () =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "wizard", content: "x" }] }));
  assert.equal(bad.param, "messages[0].role");
  await expectError(400, "unsupported_parameter", () =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }], logprobs: true }));
  const stranger = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: "not-a-key-of-this-server", maxRetries: 0 });
  await expectError(401, "invalid_api_key", () => stranger.models.list());
});

let file;
await step("files.create (purpose fine-tune), list, retrieve, content", async () => {
  file = await client.files.create({ file: fs.createReadStream(process.env.TRAIN_FILE), purpose: "fine-tune" });
  assert.ok(file.id.startsWith("file-"));
  assert.equal(file.bytes, fs.statSync(process.env.TRAIN_FILE).size);
  const listed = [];
  for await (const f of client.files.list()) listed.push(f.id);
  assert.ok(listed.includes(file.id));
  assert.equal((await client.files.retrieve(file.id)).filename.endsWith(".jsonl"), true);
  const content = await (await client.files.content(file.id)).text();
  assert.equal(content, fs.readFileSync(process.env.TRAIN_FILE, "utf8"));
  const badFile = new File(['{"messages": 5}\n'], "bad.jsonl");
  const refused = await expectError(400, undefined, () => client.files.create({ file: badFile, purpose: "fine-tune" }));
  assert.match(refused.message, /wrong-type/);
});

let job;
await step("fineTuning.jobs.create and wait for succeeded", async () => {
  job = await client.fineTuning.jobs.create({
    model: MODEL, training_file: file.id, suffix: "sdk", seed: 3,
    hyperparameters: { n_epochs: 1, batch_size: 4, learning_rate_multiplier: 2 },
  });
  assert.ok(job.id.startsWith("ftjob-"));
  const deadline = Date.now() + 240000;
  while (!["succeeded", "failed", "cancelled"].includes(job.status)) {
    assert.ok(Date.now() < deadline, "the job did not end in 240 s: " + job.status);
    await new Promise((r) => setTimeout(r, 500));
    job = await client.fineTuning.jobs.retrieve(job.id);
  }
  assert.equal(job.status, "succeeded", JSON.stringify(job.error));
  assert.ok(job.fine_tuned_model && job.fine_tuned_model.startsWith("ft-sdk-"), job.fine_tuned_model);
  assert.equal(job.hyperparameters.n_epochs, 1);
  const listed = [];
  for await (const j of client.fineTuning.jobs.list()) listed.push(j.id);
  assert.ok(listed.includes(job.id));
});

await step("fineTuning.jobs events and checkpoints (per-step metrics)", async () => {
  const events = [];
  for await (const e of client.fineTuning.jobs.listEvents(job.id)) events.push(e);
  assert.ok(events.some((e) => e.type === "metrics" && typeof e.data.train_loss === "number"), JSON.stringify(events));
  const checkpoints = [];
  for await (const c of client.fineTuning.jobs.checkpoints.list(job.id)) checkpoints.push(c);
  assert.equal(checkpoints.length, 1);
  assert.equal(checkpoints[0].fine_tuned_model_checkpoint, job.fine_tuned_model);
  assert.equal(typeof checkpoints[0].metrics.train_loss, "number");
  await expectError(400, undefined, () => client.fineTuning.jobs.cancel(job.id));  // it has ended
});

await step("the fine-tuned model answers by its returned name, plain and streaming", async () => {
  const r = await client.chat.completions.create({
    model: job.fine_tuned_model, messages: [{ role: "user", content: "Tell me about cat 3" }], max_tokens: 8,
  });
  assert.equal(r.model, job.fine_tuned_model);
  assert.ok(r.usage.completion_tokens > 0);
  const s = await chatStream(job.fine_tuned_model, "Tell me about cat 3");
  assert.ok(s.usage.completion_tokens > 0);
  assert.equal((await client.models.retrieve(job.fine_tuned_model)).id, job.fine_tuned_model);
});

await step("files.del", async () => {
  assert.equal((await client.files.delete(file.id)).deleted, true);
  await expectError(404, undefined, () => client.files.retrieve(file.id));
});
