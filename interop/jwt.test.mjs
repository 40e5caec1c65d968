// Interop: the official TypeScript SDK client reaches a tool through `sentinel http` with a JWT
// signed by a test key (RS256), whose JWKS this test serves on 127.0.0.1. The gateway fronts
// server-everything (stdio). Run with ./run jwt.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const sentinel = join(repo, "bin", "sentinel");
const everything = join(here, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const work = mkdtempSync(join(tmpdir(), "sentinel-jwt-"));

const ISSUER = "https://idp.interop.test/";
const AUDIENCE = "sentinel-interop";
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "interop-1", alg: "RS256", use: "sig" };

let jwks;
let jwksFetches = 0;
let gateway;
let endpoint;

function b64url(value) {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

function token(claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: "RS256", typ: "JWT", kid: "interop-1" });
  const payload = b64url({ iss: ISSUER, aud: AUDIENCE, sub: "ts-client", roles: ["user"], iat: now, exp: now + 600, ...claims });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), privateKey).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

function listen(server) {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server.address().port)));
}

/** Starts `sentinel http` and resolves with its MCP endpoint, read from its stderr. */
function startGateway(config) {
  return new Promise((ok, fail) => {
    const child = spawn(sentinel, ["http", "--config", config, "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    const timer = setTimeout(() => fail(new Error(`sentinel http did not start:\n${err}`)), 60_000);
    child.stderr.on("data", (chunk) => {
      err += chunk;
      const found = /MCP on (http:\/\/\S+)/.exec(err);
      if (found) {
        clearTimeout(timer);
        ok({ child, url: found[1] });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`sentinel http exited with ${code}:\n${err}`));
    });
  });
}

function stop(child) {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      ok();
    });
    child.kill("SIGTERM");
  });
}

before(async () => {
  assert.ok(existsSync(sentinel), "bin/sentinel exists");
  jwks = createServer((req, res) => {
    jwksFetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const jwksPort = await listen(jwks);
  writeFileSync(join(work, "policy.yaml"), `
roles:
  user: {}
rules:
  - id: echo
    allow: { roles: [user], tools: ["ev__echo"] }
`);
  const node = JSON.stringify(process.execPath);
  writeFileSync(join(work, "sentinel.yaml"), `
gateway: { name: jwt-interop, request_timeout: 30s }
backends:
  - name: ev
    stdio: { command: ${node}, args: [${JSON.stringify(everything)}, stdio], inherit_env: [PATH, HOME] }
policy: { file: policy.yaml }
audit: { sinks: [ { jsonl: audit.jsonl } ] }
server:
  jwt:
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
    jwks_url: http://127.0.0.1:${jwksPort}/jwks.json
    algorithms: [RS256]
  oauth:
    scopes_supported: [mcp:tools]
`);
  const started = await startGateway(join(work, "sentinel.yaml"));
  gateway = started.child;
  endpoint = started.url;
});

after(async () => {
  if (gateway) await stop(gateway);
  await new Promise((ok) => (jwks ? jwks.close(ok) : ok()));
});

test("the TypeScript SDK client calls a tool with a JWT", async () => {
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
    requestInit: { headers: { Authorization: `Bearer ${token()}` } },
  });
  const client = new Client({ name: "jwt-interop", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ["ev__echo"]);
    const result = await client.callTool({ name: "ev__echo", arguments: { message: "signed in" } });
    assert.match(result.content[0].text, /signed in/);
    assert.equal(jwksFetches, 1, "the keys were fetched once");
  } finally {
    await client.close();
  }
});

test("a bad token gets 401 with resource_metadata, and the metadata names the issuer", async () => {
  const forged = token({ aud: "someone-else" });
  const answer = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${forged}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
  });
  assert.equal(answer.status, 401);
  const challenge = answer.headers.get("www-authenticate");
  const body = await answer.text();
  assert.ok(!body.includes(forged.split(".")[1]), "nothing echoed");
  const found = /resource_metadata="([^"]+)"/.exec(challenge);
  assert.ok(found, challenge);
  assert.match(challenge, /error="invalid_token"/);
  const metadata = await (await fetch(found[1])).json();
  assert.equal(metadata.resource, endpoint);
  assert.deepEqual(metadata.authorization_servers, [ISSUER]);
  assert.deepEqual(metadata.scopes_supported, ["mcp:tools"]);
});
