// Interop: the any-to-any matrix through `sentinel http`. Clients at MCP 2025-06-18 and
// 2025-11-25 (the TypeScript SDK 1.x; 2025-06-18 by asking for it in initialize) and 2026-07-28
// (the TypeScript SDK 2.x) against two backends on stdio: server-everything (2025-11-25) and a
// server on the TypeScript SDK 2.x (fixtures/backend-2026.mjs), which Sentinel finds speaks
// 2026-07-28 (its server/discover probe) and reaches with stateless requests. In every cell: a
// tool is listed, a call answers, progress arrives, an elicitation is answered, and a denial
// carries -32012.
//
// Elicitation takes four routes. The older backend's elicitation/create reaches a 2026-07-28
// client as an input_required result under a key of Sentinel's (the backend's call waits, parked,
// for the retry), and an older client as the request it is. The 2026-07-28 backend's
// input_required reaches a 2026-07-28 client under the backend's own key with a state Sentinel
// signs around the backend's, and an older client as an elicitation/create of its session, after
// which Sentinel retries the backend with the answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Client as Client1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as Http1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { Client as Client2, StreamableHTTPClientTransport as Http2 } from "@modelcontextprotocol/client";
import { everything, workDir, writeGatewayConfig, startGateway, stopProcess, here } from "./lib/harness.mjs";
import { join } from "node:path";

const backend2026 = join(here, "fixtures", "backend-2026.mjs");

// What each backend offers for each check: the tool to list and call, the progress tool, the
// elicitation tool, and the tool the policy denies.
const backends = {
  "server-everything (2025-11-25)": {
    args: [everything, "stdio"],
    revision: "2025-11-25",
    call: ["echo", { message: "matrix" }, /matrix/],
    progress: ["trigger-long-running-operation", { duration: 1, steps: 2 }],
    elicit: ["trigger-elicitation-request", {}, /Ada/],
    denied: "get-env",
  },
  "SDK 2.x server (fixtures/backend-2026.mjs)": {
    args: [backend2026],
    revision: "2026-07-28",
    call: ["echo", { message: "matrix" }, /Echo: matrix/],
    progress: ["count", {}],
    elicit: ["ask_name", {}, /accept: Ada/],
    denied: "forbidden",
  },
};

// Answers any form: every field the schema asks for, with a value of its type.
const answer = {
  action: "accept",
  content: { name: "Ada", check: true, email: "ada@example.com", integer: 7, number: 3.5,
             untitledSingleSelectEnum: "option1", untitledMultipleSelectEnum: ["option1"],
             titledSingleSelectEnum: "option1", titledMultipleSelectEnum: ["option1"], legacyTitledEnum: "option1" },
};

/** A TypeScript SDK 1.x client that asks for `version` in initialize (the SDK asks for its latest). */
async function legacyClient(url, version) {
  const transport = new Http1(new URL(url));
  const send = transport.send.bind(transport);
  transport.send = (message, options) => send(message.method === "initialize"
    ? { ...message, params: { ...message.params, protocolVersion: version } } : message, options);
  let negotiated;
  const setVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (v) => { negotiated = v; setVersion(v); };
  const client = new Client1({ name: "sentinel-matrix", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => answer);
  await client.connect(transport);
  assert.equal(negotiated, version, "the negotiated version");
  return {
    client,
    call: (name, args, onprogress) => client.callTool({ name, arguments: args }, undefined,
      { timeout: 20_000, ...(onprogress ? { onprogress } : {}) }),
  };
}

/** A TypeScript SDK 2.x client at 2026-07-28. */
async function modernClient(url) {
  const client = new Client2({ name: "sentinel-matrix", version: "1.0.0" },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: "2026-07-28" } } });
  client.setRequestHandler("elicitation/create", async () => answer);
  await client.connect(new Http2(new URL(url)));
  assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
  return {
    client,
    call: (name, args, onprogress) => client.callTool({ name, arguments: args },
      { timeout: 20_000, ...(onprogress ? { onprogress } : {}) }),
  };
}

const clients = {
  "2025-06-18": (url) => legacyClient(url, "2025-06-18"),
  "2025-11-25": (url) => legacyClient(url, "2025-11-25"),
  "2026-07-28": (url) => modernClient(url),
};

const expectedToFail = new Set();

const gateways = new Map();

before(async () => {
  for (const [name, backend] of Object.entries(backends)) {
    const config = writeGatewayConfig(workDir("matrix"), { name: "backend", command: process.execPath,
      args: backend.args, anonymous: "matrix", denyTools: [backend.denied] });
    gateways.set(name, await startGateway(config));
  }
});

after(async () => { for (const gateway of gateways.values()) await stopProcess(gateway.handle); });

const textOf = (result) => (result.content ?? []).map((c) => c.text ?? "").join(" ");

/** Runs one check: "ok", or what went wrong. */
async function check(body) {
  try {
    await body();
    return "ok";
  } catch (error) {
    return `FAIL: ${error.code ?? ""} ${String(error.message).slice(0, 160)}`;
  }
}

async function cell(connect, backend) {
  const { client, call } = await connect();
  try {
    return {
      listed: await check(async () => {
        const { tools } = await client.listTools();
        const names = tools.map((t) => t.name);
        assert.ok(names.includes(backend.call[0]), names.join(", "));
        assert.ok(!names.includes(backend.denied), "the denied tool is not listed");
      }),
      call: await check(async () => {
        const result = await call(backend.call[0], backend.call[1]);
        assert.match(textOf(result), backend.call[2]);
      }),
      progress: await check(async () => {
        const seen = [];
        await call(backend.progress[0], backend.progress[1], (p) => seen.push(p.progress));
        assert.ok(seen.length >= 1, "progress arrived");
      }),
      elicitation: await check(async () => {
        const result = await call(backend.elicit[0], backend.elicit[1]);
        assert.ok(!result.isError, textOf(result));
        assert.match(textOf(result), backend.elicit[2]);
      }),
      denial: await check(async () => {
        await assert.rejects(call(backend.denied, {}), (error) => error.code === -32012);
      }),
    };
  } finally {
    await client.close();
  }
}

test("Sentinel speaks to each backend the newest revision it speaks: 2026-07-28 when server/discover answers", () => {
  for (const [name, backend] of Object.entries(backends)) {
    const log = gateways.get(name).handle.output;
    assert.match(log, new RegExp(`backend backend is up \\(MCP ${backend.revision}\\)`), `${name}:\n${log.slice(-2000)}`);
  }
});

test("any client revision to any backend: a listed tool, a call, progress, an elicitation answered, a denial with -32012", async (t) => {
  const rows = [];
  const unexpected = [];
  for (const [revision, connect] of Object.entries(clients)) {
    for (const [backendName, backend] of Object.entries(backends)) {
      let results;
      try {
        results = await cell(() => connect(gateways.get(backendName).url), backend);
      } catch (error) {
        const log = gateways.get(backendName).handle.output.slice(-3000);
        throw new Error(`${revision} × ${backendName}: ${error.message}\ngateway log:\n${log}`, { cause: error });
      }
      rows.push(`| ${revision} | ${backendName} | ${Object.values(results).map((r) => r === "ok" ? "ok" : "FAIL").join(" | ")} |`);
      for (const [checkName, result] of Object.entries(results)) {
        const expected = expectedToFail.has(`${revision}|${checkName}`);
        if (result !== "ok") t.diagnostic(`${revision} × ${backendName}: ${checkName}: ${result}`);
        if (expected === (result === "ok")) {
          unexpected.push(`${revision} × ${backendName}: ${checkName}: ${expected ? "passes now (update expectedToFail)" : result}`);
        }
      }
    }
  }
  t.diagnostic("\n| Client | Backend | listed | call | progress | elicitation | denial |\n|---|---|---|---|---|---|---|\n"
    + rows.join("\n"));
  assert.deepEqual(unexpected, []);
});
