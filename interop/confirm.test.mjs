// The TypeScript SDK's client confirms a call itself. A `confirm` rule holds the fixture's
// test_simple_text; the gateway asks the client that made the call (MCP elicitation, a form with
// no fields), and only an accept runs it. Through `sentinel http` the rule says `by: caller`;
// through `sentinel stdio` it says nothing, and stdio's default (the caller, when its client
// can be asked) applies. A client that declines, dismisses, or never answers within the rule's
// wait gets -32015, and the backend never sees the call. The SDK 2.x client at 2026-07-28 takes
// no requests from the gateway: it gets the question as an input_required result, answers it with
// the same elicitation handler, and sends the call again with the answer and the signed
// requestState (its multi round-trip driver); a replayed state confirms nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { Client as Client2, StreamableHTTPClientTransport as Http2, ProtocolError } from "@modelcontextprotocol/client";
import { StdioClientTransport as Stdio2 } from "@modelcontextprotocol/client/stdio";
import { awaitTools, fixture, sentinel, workDir, writeGatewayConfig, startGateway, stopProcess } from "./lib/harness.mjs";

const HELD = "test_simple_text";

function confirmPolicy(config, by) {
  writeFileSync(join(dirname(config), "policy.yaml"), `
roles:
  tester: {}
rules:
  - id: testers-do-anything
    allow: { roles: [tester] }
  - id: ask-first
    confirm: { tools: [${HELD}] }
    reason: "the interop policy asks first"
    wait: 3s
${by ? `    by: ${by}\n` : ""}`);
}

let http;
let stdioConfig;

before(async () => {
  const httpConfig = writeGatewayConfig(workDir("confirm-http"), {
    name: "fixture", command: process.execPath, args: [fixture], anonymous: "ada" });
  confirmPolicy(httpConfig, "caller");
  stdioConfig = writeGatewayConfig(workDir("confirm-stdio"), {
    name: "fixture", command: process.execPath, args: [fixture] });
  confirmPolicy(stdioConfig, null);
  appendFileSync(stdioConfig, "identity: { principal: { id: ada, roles: [tester] } }\n");
  http = await startGateway(httpConfig);
});

after(async () => { await stopProcess(http?.handle); });

const gateways = {
  "sentinel http": () => new StreamableHTTPClientTransport(new URL(http.url)),
  "sentinel stdio": () => new StdioClientTransport({ command: sentinel, args: ["stdio", "--config", stdioConfig], stderr: "pipe" }),
};

/** A client whose human answers each question with `human.answer` ("never": not at all). */
async function connect(gateway, human) {
  const client = new Client({ name: "sentinel-interop-confirm", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    human.asked.push(request.params);
    if (human.answer === "never") return new Promise(() => {});
    return { action: human.answer, content: {} };
  });
  await client.connect(gateways[gateway]());
  // `sentinel stdio` starts its backend in the background: wait until it is listed.
  if (gateway === "sentinel stdio") await awaitTools(client, [HELD]);
  return client;
}

async function refusal(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a JSON-RPC error");
}

for (const gateway of Object.keys(gateways)) {
  test(`${gateway}: the TypeScript client's human accepts, declines, dismisses or never answers a confirm rule's question`, async () => {
    const human = { answer: "accept", asked: [] };
    const client = await connect(gateway, human);
    try {
      const accepted = await client.callTool({ name: HELD, arguments: {} });
      assert.equal(accepted.content[0].text, "This is a simple text response for testing.");
      assert.equal(human.asked.length, 1);
      assert.match(human.asked[0].message, new RegExp(`tools/call: ${HELD} \\(backend fixture\\)`));
      assert.match(human.asked[0].message, /the interop policy asks first \(rule ask-first\)/);
      assert.deepEqual(human.asked[0].requestedSchema, { type: "object", properties: {} });

      for (const [answer, says] of [["decline", /declined/], ["cancel", /dismissed/], ["never", /within 3 s/]]) {
        human.answer = answer;
        const error = await refusal(client.callTool({ name: HELD, arguments: {} }));
        assert.ok(error instanceof McpError, String(error));
        assert.equal(error.code, -32015, error.message);
        assert.match(error.message, says);
      }
      assert.equal(human.asked.length, 4);

      // Tools no rule holds run without a question.
      human.answer = "decline";
      const free = await client.callTool({ name: "test_image_content", arguments: {} });
      assert.equal(free.content[0].type, "image");
      assert.equal(human.asked.length, 4);
    } finally {
      await client.close();
    }
  });
}

const modern = {
  "sentinel http": () => new Http2(new URL(http.url)),
  "sentinel stdio": () => new Stdio2({ command: sentinel, args: ["stdio", "--config", stdioConfig], stderr: "pipe" }),
};

for (const gateway of Object.keys(modern)) {
  test(`${gateway}: the SDK 2.x client at 2026-07-28 answers the question of an input_required result and its call runs`, async () => {
    const human = { answer: "accept", asked: [] };
    const client = new Client2({ name: "sentinel-interop-confirm-2026", version: "1.0.0" },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: "2026-07-28" } } });
    client.setRequestHandler("elicitation/create", async (request) => {
      human.asked.push(request.params);
      return { action: human.answer, content: {} };
    });
    // Every request the client sends, to see its retry carry the answer and the state.
    const transport = modern[gateway]();
    const sent = [];
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      sent.push(message);
      return send(message, options);
    };
    await client.connect(transport);
    if (gateway === "sentinel stdio") await awaitTools(client, [HELD]);
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
      const accepted = await client.callTool({ name: HELD, arguments: {} });
      assert.equal(accepted.content[0].text, "This is a simple text response for testing.");
      assert.equal(human.asked.length, 1);
      assert.match(human.asked[0].message, /the interop policy asks first \(rule ask-first\)/);
      const calls = sent.filter((m) => m.method === "tools/call");
      assert.equal(calls.length, 2, JSON.stringify(calls));
      assert.equal(calls[1].params.inputResponses.sentinel_confirm.action, "accept");
      assert.match(calls[1].params.requestState, /^sentinel1\./);

      // The answered call sent again by hand, with the same state: used once, so refused.
      const error = await client.request({ method: "tools/call", params: calls[1].params })
        .then(() => null, (e) => e);
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(error.code, -32015, error.message);

      human.answer = "decline";
      const declined = await client.callTool({ name: HELD, arguments: {} }).then(() => null, (e) => e);
      assert.ok(declined instanceof ProtocolError, String(declined));
      assert.equal(declined.code, -32015, declined.message);
      assert.match(declined.message, /declined/);
    } finally {
      await client.close();
    }
  });
}
