// The dual-era conformance fixture (fixtures/conformance-server-2026.mjs, on the TypeScript SDK 2.x
// server) against the official conformance suite directly, no Sentinel in between: served over
// Streamable HTTP, it passes every scenario of the 0.1.16 active suite (2025-era clients:
// initialize and sessions) and every scenario the 0.2.0 alpha scores for MCP 2026-07-28
// (`--requirements 2026-07-28`), the ten multi round-trip (MRTR) scenarios included, and the
// Tasks extension's ten `tasks-*` scenarios (not scored: an extension). So when a scenario fails
// through `sentinel http` fronting this fixture, the gateway is the cause.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  startFixture2026Http, runConformance, resultTable, unscoredScenarios, withProcess, scenarioFailures as failuresOf,
  assertTasksPass,
} from "./lib/harness.mjs";

const againstFixture = (body) => withProcess(startFixture2026Http, body);

function announcedCount(run, pattern) {
  const count = pattern.exec(run.output);
  assert.ok(count, "the suite says how many scenarios it runs:\n" + run.output.slice(0, 2000));
  return Number(count[1]);
}

// Active scenarios that fail against the fixture for a reason of the SDK or the suite, each with
// its reason. None today: keep it that way, or name the scenario and why.
const knownActiveFailures = [];

test("the 2026 fixture passes every active conformance scenario (2025-era clients) directly", async (t) => {
  const run = await againstFixture(({ url }) => runConformance(url));
  const names = [...run.scenarios.keys()].sort();
  t.diagnostic("\n" + resultTable([{ title: "2026 fixture directly (active suite)", run }], names));
  assert.equal(run.scenarios.size, announcedCount(run, /Running active suite \((\d+) scenarios\)/), "a result for every active scenario");
  assert.ok(run.scenarios.size >= 30, `ran ${run.scenarios.size} scenarios`);
  assert.deepEqual(failuresOf(run, names.filter((n) => !knownActiveFailures.includes(n))), []);
});

// The scenarios that need the backend itself to answer with 2026-07-28 multi round-trip results
// (conformance.test.mjs's `awaitingMrtr`): scored, and passing here.
const mrtr = [
  "input-required-result-basic-elicitation",
  "input-required-result-basic-sampling",
  "input-required-result-basic-list-roots",
  "input-required-result-request-state",
  "input-required-result-multiple-input-requests",
  "input-required-result-multi-round",
  "input-required-result-non-tool-request",
  "input-required-result-result-type",
  "input-required-result-tampered-state",
  "input-required-result-capability-check",
];

test("the 2026 fixture passes every scored MCP 2026-07-28 scenario directly, MRTR included", async (t) => {
  const run = await againstFixture(({ url }) => runConformance(url, { requirements: "2026-07-28" }));
  assert.equal(run.scenarios.size, announcedCount(run, /Running requirements 2026-07-28 \((\d+) scenarios\)/),
    "a result for every scenario");
  const unscored = unscoredScenarios(run);
  const scored = [...run.scenarios.keys()].filter((n) => !unscored.has(n)).sort();
  const passing = scored.filter((n) => run.scenarios.get(n).passed);
  t.diagnostic(`2026-07-28 scored scenarios: ${passing.length}/${scored.length} pass`);
  t.diagnostic("\n" + resultTable([{ title: "2026 fixture directly (2026-07-28)", run }],
    [...scored, ...[...unscored.keys()].sort()]));
  assert.ok(scored.length >= 37, `scored ${scored.length} scenarios`);
  for (const name of mrtr) assert.ok(scored.includes(name), `${name} is scored`);
  assert.deepEqual(failuresOf(run, scored), [], "every scored scenario passes");
  // Pending scenarios (the header checks, JSON Schema 2020-12) are not scored yet; they pass too.
  const pending = [...unscored].filter(([, kind]) => kind === "pending").map(([n]) => n);
  assert.ok(pending.length > 0, "some pending scenarios ran");
  assert.deepEqual(failuresOf(run, pending), []);
  // The Tasks extension (`tasks-*`, not scored: an extension) is served, and every scenario passes.
  assertTasksPass(run, unscored);
});

/** One stateless 2026-07-28 request to `url`, as a client of that revision sends it; the JSON-RPC answer. */
async function call(url, method, params) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": params.name },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { ...params, _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "fixture-test", version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } } } }) });
  const body = await response.text();
  // A single JSON body, or an SSE stream whose last data line is the answer.
  const json = response.headers.get("content-type")?.includes("text/event-stream")
    ? body.split("\n").filter((line) => line.startsWith("data:")).map((line) => JSON.parse(line.slice(5))).at(-1)
    : JSON.parse(body);
  return json;
}

test("the 2026 fixture refuses a requestState that was tampered with or minted for another flow, with -32602", async () => {
  await againstFixture(async ({ url }) => {
    const confirm = { confirm: { action: "accept", content: { ok: true } } };
    const first = (await call(url, "tools/call", { name: "test_input_required_result_request_state", arguments: {} })).result;
    assert.equal(first.resultType, "input_required");
    assert.equal(typeof first.requestState, "string");
    const honest = await call(url, "tools/call", { name: "test_input_required_result_request_state", arguments: {},
      inputResponses: confirm, requestState: first.requestState });
    assert.match(honest.result?.content?.[0]?.text ?? "", /state-ok/, JSON.stringify(honest));

    // One character of the signed body changed.
    const flipped = first.requestState.replace(/\.(.)/, (m, c) => "." + (c === "A" ? "B" : "A"));
    const tampered = await call(url, "tools/call", { name: "test_input_required_result_request_state", arguments: {},
      inputResponses: confirm, requestState: flipped });
    assert.equal(tampered.error?.code, -32602, JSON.stringify(tampered));

    // A genuine state of another tool's flow.
    const other = (await call(url, "tools/call", { name: "test_input_required_result_tampered_state", arguments: {} })).result;
    const replayed = await call(url, "tools/call", { name: "test_input_required_result_request_state", arguments: {},
      inputResponses: confirm, requestState: other.requestState });
    assert.equal(replayed.error?.code, -32602, JSON.stringify(replayed));
  });
});
