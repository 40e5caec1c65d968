// Interop: the official TypeScript SDK 2.x client (@modelcontextprotocol/client), speaking MCP
// 2026-07-28 (no initialize; every request carries its version and capabilities in _meta), drives
// both gateways, `sentinel stdio` and `sentinel http`, each fronting this project's conformance
// fixture (a 2025-11-25 stdio server). In each: the version is negotiated (pinned, and by the
// SDK's own server/discover probe), server/discover shows the policy-filtered view, a listed tool
// is called, progress arrives, a denial carries its code (-32012), and a tool that needs a
// capability the client did not declare is refused with -32021. Over HTTP the SDK mirrors an
// x-mcp-header argument in Mcp-Param-* and the gateway accepts it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { Client, StreamableHTTPClientTransport, ProtocolError } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { awaitTools, fixture, sentinel, workDir, writeGatewayConfig, startGateway, stopProcess } from "./lib/harness.mjs";

const MODERN = "2026-07-28";
const DENIED = "test_audio_content";

let http;
let stdioConfig;
const clients = new Set();

before(async () => {
  const httpConfig = writeGatewayConfig(workDir("sdk2-http"), {
    name: "fixture", command: process.execPath, args: [fixture], anonymous: "sdk2", denyTools: [DENIED] });
  stdioConfig = writeGatewayConfig(workDir("sdk2-stdio"), {
    name: "fixture", command: process.execPath, args: [fixture], denyTools: [DENIED] });
  appendFileSync(stdioConfig, "identity: { principal: { id: sdk2, roles: [tester] } }\n");
  http = await startGateway(httpConfig);
});

after(async () => {
  // Closing a stdio client ends its `sentinel stdio` (and that gateway's backends) with it.
  for (const client of clients) await client.close().catch(() => {});
  await stopProcess(http?.handle);
});

const gateways = {
  "sentinel http": () => new StreamableHTTPClientTransport(new URL(http.url)),
  "sentinel stdio": () => new StdioClientTransport({ command: sentinel, args: ["stdio", "--config", stdioConfig], stderr: "pipe" }),
};

async function connect(gateway, mode = { pin: MODERN }, wire = null) {
  const client = new Client({ name: "sentinel-interop-sdk2", version: "1.0.0" },
    { capabilities: {}, versionNegotiation: { mode } });
  clients.add(client);
  const transport = gateways[gateway]();
  await client.connect(transport);
  // `sentinel stdio` starts its backend in the background: wait until it is listed.
  if (gateway === "sentinel stdio") await awaitTools(client, ["test_simple_text"]);
  if (wire) {
    // Every message the gateway sends, in the order the transport read it, before the SDK's
    // Protocol dispatches it.
    const dispatch = transport.onmessage;
    transport.onmessage = (message, extra) => {
      wire.push(message);
      dispatch(message, extra);
    };
  }
  return client;
}

async function close(client) {
  clients.delete(client);
  await client.close();
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
  test(`${gateway}: the 2.x client at ${MODERN} discovers, lists, calls with progress, and is denied with -32012`, async () => {
    const wire = [];
    const client = await connect(gateway, { pin: MODERN }, wire);
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      const discovered = client.getDiscoverResult();
      assert.ok(discovered?.supportedVersions.includes(MODERN), JSON.stringify(discovered));
      assert.ok(discovered.capabilities.tools, "the tools capability is discovered");

      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes("test_simple_text"), names.join(", "));
      assert.ok(!names.includes(DENIED), "a denied tool is not listed");

      const simple = await client.callTool({ name: "test_simple_text", arguments: {} });
      assert.equal(simple.content[0].text, "This is a simple text response for testing.");

      const progress = [];
      wire.length = 0;
      const progressed = await client.callTool({ name: "test_tool_with_progress", arguments: {} },
        { onprogress: (p) => progress.push(p.progress) });
      assert.equal(progressed.content[0].text, "Progress reported");
      // The gateway's part: every progress notification reaches the client before the result.
      const answer = wire.findIndex((m) => m.id !== undefined && m.result !== undefined);
      const notified = wire.slice(0, answer).filter((m) => m.method === "notifications/progress");
      assert.deepEqual(notified.map((m) => m.params.progress), [0, 50, 100], JSON.stringify(wire));
      assert.ok(!wire.slice(answer + 1).some((m) => m.method === "notifications/progress"), JSON.stringify(wire));
      // The SDK's part: it hands a notification to its handler in a microtask but settles a
      // response at once, dropping the request's progress handler ("unknown token"), so progress
      // read in the same chunk as the result never reaches onprogress (Protocol._onnotification
      // and _onresponse in @modelcontextprotocol/client 2.4.0). What does arrive is in order.
      assert.deepEqual(progress, [0, 50, 100].slice(0, progress.length));

      const denied = await refusal(client.callTool({ name: DENIED, arguments: {} }));
      assert.ok(denied instanceof ProtocolError, String(denied));
      assert.equal(denied.code, -32012, denied.message);
    } finally {
      await close(client);
    }
  });

  test(`${gateway}: a call whose backend asks for sampling the 2.x client did not declare is refused with -32021`, async () => {
    const client = await connect(gateway);
    try {
      const error = await refusal(client.callTool({ name: "test_missing_capability", arguments: {} }));
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(error.code, -32021, error.message);
      assert.ok(error.data?.requiredCapabilities?.sampling, JSON.stringify(error.data));
    } finally {
      await close(client);
    }
  });

  test(`${gateway}: the 2.x client's own negotiation (server/discover probe, else initialize) picks ${MODERN}`, async () => {
    const client = await connect(gateway, "auto");
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      const simple = await client.callTool({ name: "test_simple_text", arguments: {} });
      assert.equal(simple.content[0].text, "This is a simple text response for testing.");
    } finally {
      await close(client);
    }
  });
}

test(`sentinel http: the 2.x client mirrors an x-mcp-header argument in Mcp-Param-*, and the gateway accepts it`, async () => {
  const client = await connect("sentinel http");
  try {
    await client.listTools(); // the SDK mirrors the arguments the listed schema marks
    const result = await client.callTool({ name: "test_custom_headers",
      arguments: { region: "eu-west", priority: 3, query: "not mirrored" } });
    assert.equal(result.content[0].text, 'Received: {"region":"eu-west","priority":3,"query":"not mirrored"}');
  } finally {
    await close(client);
  }
});
