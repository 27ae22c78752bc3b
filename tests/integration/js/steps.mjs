// What the JavaScript client tests share: one printed line per step, the first failure ends the
// run naming its step, and the check that a call fails with a given AWS error and HTTP status.
import assert from "node:assert/strict";

export async function step(name, fn) {
  try {
    const note = await fn();
    console.log(`ok   ${name}${note ? ": " + note : ""}`);
  } catch (e) {
    const status = e?.$metadata?.httpStatusCode;
    const what = e?.name && status ? `${e.name} (HTTP ${status}): ${e.message}` : (e?.stack ?? String(e));
    console.log(`FAIL ${name}: ${what}`);
    process.exit(1);
  }
}

/** Runs fn, which must fail with error name `name` and HTTP status `http`. */
export async function expectError(name, http, fn) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    assert.equal(e.name, name, `expected ${name}, got ${e.name} (HTTP ${e.$metadata?.httpStatusCode}): ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, http, `${name}: HTTP status`);
    return e;
  }
  assert.fail(`expected ${name} ${http}, the call succeeded (HTTP ${result?.$metadata?.httpStatusCode})`);
}
