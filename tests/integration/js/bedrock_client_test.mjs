// Bedrock as the AWS SDK for JavaScript v3 sees it, with the clients' DEFAULT request handlers:
// @aws-sdk/client-bedrock speaks HTTP/1.1, @aws-sdk/client-bedrock-runtime speaks HTTP/2
// (NodeHttp2Handler: h2c with prior knowledge to an http:// endpoint, ALPN h2 to https://).
// This is the client of issue #21, whose InvokeModel and Converse failed with ERR_HTTP2_ERROR.
//
// Run by bedrock_sdk_js_test.py, which starts `lathe serve` and sets:
//   BEDROCK_ENDPOINT (http:// or https://), BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY,
//   BEDROCK_REGION; for https, NODE_EXTRA_CA_CERTS names lathe's self-signed CA; BEDROCK_TRAIN_URI
//   and BEDROCK_OUTPUT_URI (file:// in the server's fileRoots) for the job step.
// Each step prints one line; the first failure prints "FAIL <step>: ..." and exits 1.
import assert from "node:assert/strict";
import {
  BedrockClient, ListFoundationModelsCommand, GetModelCustomizationJobCommand, CreateModelCustomizationJobCommand,
} from "@aws-sdk/client-bedrock";
import {
  BedrockRuntimeClient, InvokeModelCommand, ConverseCommand, ConverseStreamCommand, InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { step, expectError } from "./steps.mjs";

for (const name of ["BEDROCK_ENDPOINT", "BEDROCK_ACCESS_KEY_ID", "BEDROCK_SECRET_ACCESS_KEY", "BEDROCK_REGION"]) {
  if (!process.env[name]) {
    console.error(`bedrock_client_test: ${name} is not set`);
    process.exit(2);
  }
}

const common = {
  endpoint: process.env.BEDROCK_ENDPOINT,
  region: process.env.BEDROCK_REGION,
  credentials: {
    accessKeyId: process.env.BEDROCK_ACCESS_KEY_ID,
    secretAccessKey: process.env.BEDROCK_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1, // every call once: a retry would hide the first answer, which is the one under test
};
const bedrock = new BedrockClient(common);
const runtime = new BedrockRuntimeClient(common);

const MODEL = "amazon.titan-text-express-v1"; // an alias of lathe's default model

await step("ListFoundationModels", async () => {
  const out = await bedrock.send(new ListFoundationModelsCommand({ byCustomizationType: "FINE_TUNING" }));
  const ids = out.modelSummaries.map((m) => m.modelId);
  assert.ok(ids.includes(MODEL) && ids.includes("lathe.default-v1"), ids.join(","));
  return `${ids.length} models`;
});

await step("GetModelCustomizationJob (missing)", async () => {
  await expectError("ResourceNotFoundException", 404, () =>
    bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: "nope" })));
});

await step("CreateModelCustomizationJob, watched until Completed", async () => {
  const name = `js-job-${Date.now()}`;
  const { jobArn } = await bedrock.send(new CreateModelCustomizationJobCommand({
    jobName: name, customModelName: `${name}-model`,
    roleArn: "arn:aws:iam::123456789012:role/BedrockFineTuningRole",
    baseModelIdentifier: MODEL,
    trainingDataConfig: { s3Uri: process.env.BEDROCK_TRAIN_URI },
    outputDataConfig: { s3Uri: process.env.BEDROCK_OUTPUT_URI },
    hyperParameters: { epochCount: "1", batchSize: "4", learningRate: "0.0003" } }));
  const deadline = Date.now() + 240_000;
  let job;
  do {
    await new Promise((r) => setTimeout(r, 500));
    job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  } while (job.status === "InProgress" && Date.now() < deadline);
  assert.equal(job.status, "Completed", JSON.stringify(job));
  assert.ok(job.outputModelArn, "no outputModelArn");
  return job.outputModelArn;
});

await step("InvokeModel (HTTP/2)", async () => {
  const body = JSON.stringify({ inputText: "Customer: how do I reset my card PIN?\nAgent:",
                                textGenerationConfig: { maxTokenCount: 12, temperature: 0 } });
  const out = await runtime.send(new InvokeModelCommand({ modelId: MODEL, body, contentType: "application/json" }));
  const answer = JSON.parse(new TextDecoder().decode(out.body));
  assert.ok(answer.results[0].tokenCount > 0, JSON.stringify(answer));
  return JSON.stringify(answer.results[0].outputText.trim().slice(0, 50));
});

await step("Converse (HTTP/2)", async () => {
  const out = await runtime.send(new ConverseCommand({
    modelId: MODEL, messages: [{ role: "user", content: [{ text: "Hello" }] }], inferenceConfig: { maxTokens: 10 } }));
  assert.equal(out.output.message.role, "assistant");
  assert.ok(out.usage.outputTokens > 0, JSON.stringify(out.usage));
  return `${out.usage.outputTokens} tokens, stop ${out.stopReason}`;
});

await step("ConverseStream (HTTP/2, AWS event-stream)", async () => {
  const out = await runtime.send(new ConverseStreamCommand({
    modelId: MODEL, messages: [{ role: "user", content: [{ text: "Once upon a time" }] }],
    inferenceConfig: { maxTokens: 12, temperature: 0 } }));
  const seen = [];
  let text = "", stop, usage;
  for await (const event of out.stream) {
    const kind = Object.keys(event)[0];
    seen.push(kind);
    if (event.contentBlockDelta) text += event.contentBlockDelta.delta.text;
    if (event.messageStop) stop = event.messageStop.stopReason;
    if (event.metadata) usage = event.metadata.usage;
  }
  assert.equal(seen[0], "messageStart", seen.join(","));
  assert.ok(seen.includes("contentBlockDelta"), seen.join(","));
  assert.equal(seen[seen.length - 1], "metadata", seen.join(","));
  assert.ok(["end_turn", "max_tokens"].includes(stop), String(stop));
  assert.ok(usage.outputTokens > 0 && text.length > 0, JSON.stringify({ usage, text }));
  // the same request unstreamed gives the same text (temperature 0)
  const whole = await runtime.send(new ConverseCommand({
    modelId: MODEL, messages: [{ role: "user", content: [{ text: "Once upon a time" }] }],
    inferenceConfig: { maxTokens: 12, temperature: 0 } }));
  assert.equal(text, whole.output.message.content[0].text);
  return `${seen.length} events, ${JSON.stringify(text.slice(0, 40))}`;
});

await step("InvokeModelWithResponseStream (HTTP/2, Titan chunks)", async () => {
  const body = JSON.stringify({ inputText: "Once upon a time", textGenerationConfig: { maxTokenCount: 12, temperature: 0 } });
  const out = await runtime.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: "application/json" }));
  let text = "", chunks = 0, last;
  for await (const event of out.body) {
    assert.ok(event.chunk, JSON.stringify(Object.keys(event)));
    last = JSON.parse(new TextDecoder().decode(event.chunk.bytes));
    text += last.outputText;
    chunks++;
  }
  assert.ok(chunks > 0 && text.length > 0, `${chunks} chunks`);
  assert.ok(last.completionReason, JSON.stringify(last));
  return `${chunks} chunks, ${JSON.stringify(text.slice(0, 40))}`;
});

await step("ConverseStream on a missing model (error before the stream)", async () => {
  await expectError("ValidationException", 400, () =>
    runtime.send(new ConverseStreamCommand({ modelId: "no.such-model", messages: [{ role: "user", content: [{ text: "x" }] }] })));
});

await step("concurrent InvokeModel and Converse on one connection", async () => {
  const calls = [];
  for (let i = 0; i < 4; i++) {
    calls.push(runtime.send(new ConverseCommand({
      modelId: MODEL, messages: [{ role: "user", content: [{ text: `Question ${i}` }] }],
      inferenceConfig: { maxTokens: 5 } })));
  }
  const outs = await Promise.all(calls);
  for (const out of outs) assert.equal(out.output.message.role, "assistant");
  return `${outs.length} answers`;
});

await step("InvokeModel on a missing model (HTTP/2 error)", async () => {
  await expectError("ValidationException", 400, () =>
    runtime.send(new InvokeModelCommand({ modelId: "no.such-model", body: "{}", contentType: "application/json" })));
});

await step("a wrong secret is refused over HTTP/2", async () => {
  const forged = new BedrockRuntimeClient({ ...common, credentials: { ...common.credentials, secretAccessKey: "x".repeat(40) } });
  await expectError("InvalidSignatureException", 403, () =>
    forged.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: "x" }] }] })));
  forged.destroy();
});

bedrock.destroy();
runtime.destroy();
console.log("all steps passed");
