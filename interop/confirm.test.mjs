// The TypeScript SDK's client confirms a call itself. A `confirm` rule holds the fixture's
// test_simple_text; the gateway asks the client that made the call (MCP elicitation, a form with
// no fields), and only an accept runs it. Through `sentinel http` the rule says `by: caller`;
// through `sentinel stdio` it says nothing, and stdio's default (the caller, when its client
// can be asked) applies. A client that declines, dismisses, or never answers within the rule's
// wait gets -32015, and the backend never sees the call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { fixture, sentinel, workDir, writeGatewayConfig, startGateway, stopProcess } from "./lib/harness.mjs";

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
