// The TypeScript SDK's Streamable HTTP client reaches server-everything's tools through
// `sentinel http` with an API key made by `sentinel keys create`, in either header; a wrong key,
// a revoked one and none at all get 401, which the SDK surfaces as an error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  everything, sentinel, workDir, writeGatewayConfig, createKey, startGateway, stopProcess,
} from "./lib/harness.mjs";

let config;
let gateway;
let key;

before(async () => {
  config = writeGatewayConfig(workDir("http-sdk"), { name: "ev", command: process.execPath, args: [everything, "stdio"] });
  key = createKey(config, "ada", ["tester"]);
  gateway = await startGateway(config);
});

after(async () => { await stopProcess(gateway?.handle); });

async function connect(headers) {
  const client = new Client({ name: "sentinel-interop-http", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

function refusedWith401(error) {
  assert.ok(error instanceof StreamableHTTPError, `a StreamableHTTPError, got ${error}`);
  assert.equal(error.code, 401);
  return true;
}

test("an API key in X-API-Key reaches a tool through sentinel http", async () => {
  const client = await connect({ "X-API-Key": key });
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "echo"), "echo is listed");
    const result = await client.callTool({ name: "echo", arguments: { message: "through the gateway" } });
    assert.match(result.content[0].text, /through the gateway/);
  } finally {
    await client.close();
  }
});

test("an API key as a bearer token works too", async () => {
  const client = await connect({ Authorization: `Bearer ${key}` });
  try {
    const result = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } });
    assert.match(JSON.stringify(result.content), /42/);
  } finally {
    await client.close();
  }
});

test("a wrong key gets 401 and the SDK reports it", async () => {
  const wrong = key.slice(0, -4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA");
  await assert.rejects(connect({ "X-API-Key": wrong }), refusedWith401);
  await assert.rejects(connect({ "X-API-Key": "not-a-key" }), refusedWith401);
});

test("no credentials get 401 when the config has no anonymous principal", async () => {
  await assert.rejects(connect({}), refusedWith401);
});

test("a revoked key is refused", async () => {
  const other = createKey(config, "bob", ["tester"]);
  const listed = execFileSync(sentinel, ["keys", "list", "--config", config], { encoding: "utf8" });
  const line = listed.split("\n").find((l) => l.includes("bob"));
  assert.ok(line, "bob's key is listed:\n" + listed);
  const id = line.trim().split(/\s+/)[0]; // the ID column
  execFileSync(sentinel, ["keys", "revoke", "--config", config, id], { encoding: "utf8" });
  let refused = false;
  for (let i = 0; i < 100 && !refused; i++) { // the key store caches a key for 5 s
    try {
      await (await connect({ "X-API-Key": other })).close();
      await new Promise((r) => setTimeout(r, 200));
    } catch (error) {
      refused = refusedWith401(error);
    }
  }
  assert.ok(refused, "the revoked key stopped working");
});

test("the audit trail records the key's principal", () => {
  const events = readFileSync(join(dirname(config), "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const echo = events.find((e) => e.name === "echo");
  assert.ok(echo, "the echo call is audited");
  assert.match(JSON.stringify(echo), /"ada"/);
});
