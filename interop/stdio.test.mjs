// Interop: the official TypeScript SDK client drives `sentinel stdio`, which fronts three real
// MCP servers at once (server-everything, server-filesystem, server-memory). Run with ./run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { awaitTools } from "./lib/harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const sentinel = join(repo, "bin", "sentinel");
const modules = join(here, "node_modules", "@modelcontextprotocol");
const everything = join(modules, "server-everything", "dist", "index.js");
const filesystem = join(modules, "server-filesystem", "dist", "index.js");
const memory = join(modules, "server-memory", "dist", "index.js");

const work = mkdtempSync(join(tmpdir(), "sentinel-interop-"));
const workspace = join(work, "workspace");
const audit = join(work, "audit.jsonl");

function writeConfig() {
  execFileSync("mkdir", ["-p", workspace]);
  writeFileSync(join(workspace, "hello.txt"), "hello from the workspace\n");
  writeFileSync(join(work, "policy.yaml"), `
roles:
  user: {}
rules:
  - id: everything-tools
    allow: { roles: [user], tools: ["ev__echo", "ev__get-sum", "ev__trigger-long-running-operation",
                                     "ev__trigger-sampling-request", "ev__trigger-elicitation-request",
                                     "ev__get-structured-content", "ev__get-tiny-image"] }
  - id: no-env-dump
    deny: { tools: ["ev__get-env"] }
    reason: "environment dumps would leak secrets"
  - id: read-the-workspace
    allow: { roles: [user], tools: ["fs__read_*", "fs__list_*", "fs__get_file_info", "fs__search_files", "fs__directory_tree", "fs__list_allowed_directories"] }
  - id: memory
    allow: { roles: [user], tools: ["mem__*"] }
  - id: sampling-from-everything
    allow: { roles: [user], methods: ["sampling/createMessage", "elicitation/create", "roots/list"], backends: [ev, fs, mem] }
`);
  const node = process.execPath;
  writeFileSync(join(work, "sentinel.yaml"), `
gateway: { name: interop, request_timeout: 30s }
identity: { principal: { id: interop, roles: [user] } }
backends:
  - name: ev
    stdio: { command: ${JSON.stringify(node)}, args: [${JSON.stringify(everything)}, stdio], inherit_env: [PATH, HOME] }
  - name: fs
    stdio: { command: ${JSON.stringify(node)}, args: [${JSON.stringify(filesystem)}, ${JSON.stringify(workspace)}], inherit_env: [PATH, HOME] }
  - name: mem
    stdio: { command: ${JSON.stringify(node)}, args: [${JSON.stringify(memory)}], env: { MEMORY_FILE_PATH: ${JSON.stringify(join(work, "memory.jsonl"))} }, inherit_env: [PATH, HOME] }
policy: { file: policy.yaml }
audit:
  sinks: [ { jsonl: audit.jsonl } ]
`);
}

async function connect(command, args, { sampling, elicitation } = {}) {
  const transport = new StdioClientTransport({ command, args, stderr: "pipe" });
  const client = new Client(
    { name: "sentinel-interop", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => sampling(request));
  client.setRequestHandler(ElicitRequestSchema, async (request) => elicitation(request));
  await client.connect(transport);
  return { client, transport };
}

const handlers = {
  sampling: async (request) => ({
    model: "interop-model",
    role: "assistant",
    content: { type: "text", text: "sampled: " + request.params.messages[0].content.text },
  }),
  elicitation: async () => ({ action: "accept", content: { name: "Ada", check: true, email: "ada@example.com", integer: 7, number: 3.5, untitledSingleSelectEnum: "option1", untitledMultipleSelectEnum: ["option1"], titledSingleSelectEnum: "option1", titledMultipleSelectEnum: ["option1"], legacyTitledEnum: "option1" } }),
};

let gateway;
let direct;

before(async () => {
  assert.ok(existsSync(sentinel), "bin/sentinel exists");
  writeConfig();
  gateway = await connect(sentinel, ["stdio", "--config", join(work, "sentinel.yaml")], handlers);
  // The backends start in the background, each announced by tools/list_changed.
  await awaitTools(gateway.client, ["ev__", "fs__", "mem__"]);
  direct = await connect(process.execPath, [everything, "stdio"], handlers);
});

after(async () => {
  await gateway?.client.close();
  await direct?.client.close();
});

test("lists namespaced tools of all three servers, filtered by policy", async () => {
  const { tools } = await gateway.client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes("ev__echo"));
  assert.ok(names.includes("fs__read_text_file") || names.includes("fs__read_file"));
  assert.ok(names.some((n) => n.startsWith("mem__")));
  assert.ok(!names.includes("ev__get-env"), "denied tool is hidden");
  assert.ok(!names.includes("fs__write_file"), "tool no rule allows is hidden");
});

test("allowed calls give the same result as a direct connection", async () => {
  for (const [name, args] of [["echo", { message: "hi there" }], ["get-sum", { a: 2, b: 40 }],
                               ["get-structured-content", { location: "Chicago" }]]) {
    const via = await gateway.client.callTool({ name: "ev__" + name, arguments: args });
    const straight = await direct.client.callTool({ name, arguments: args });
    assert.deepEqual(via, straight, name);
  }
});

test("a denied call gets a stable error naming the rule and reason", async () => {
  await assert.rejects(
    gateway.client.callTool({ name: "ev__get-env", arguments: {} }),
    (error) => {
      assert.equal(error.code, -32012);
      assert.match(error.message, /no-env-dump/);
      assert.match(error.message, /environment dumps would leak secrets/);
      return true;
    });
});

test("reads files through server-filesystem", async () => {
  const tools = (await gateway.client.listTools()).tools.map((t) => t.name);
  const read = tools.includes("fs__read_text_file") ? "fs__read_text_file" : "fs__read_file";
  const result = await gateway.client.callTool({ name: read, arguments: { path: join(workspace, "hello.txt") } });
  assert.match(result.content[0].text, /hello from the workspace/);
});

test("progress notifications arrive through the gateway", async () => {
  const progress = [];
  await gateway.client.callTool(
    { name: "ev__trigger-long-running-operation", arguments: { duration: 1, steps: 3 } },
    undefined,
    { onprogress: (p) => progress.push(p) });
  assert.ok(progress.length >= 2, "got " + progress.length + " progress notifications");
});

test("sampling round trip through the gateway", async () => {
  const result = await gateway.client.callTool({ name: "ev__trigger-sampling-request", arguments: { prompt: "ping", maxTokens: 10 } });
  assert.match(JSON.stringify(result), /sampled: /);
});

test("elicitation round trip through the gateway", async () => {
  const result = await gateway.client.callTool({ name: "ev__trigger-elicitation-request", arguments: {} });
  assert.match(JSON.stringify(result), /Ada/);
});

test("memory server works alongside", async () => {
  await gateway.client.callTool({ name: "mem__create_entities", arguments: { entities: [{ name: "sentinel", entityType: "project", observations: ["governs tool calls"] }] } });
  const graph = await gateway.client.callTool({ name: "mem__read_graph", arguments: {} });
  assert.match(JSON.stringify(graph), /governs tool calls/);
});

test("survives a backend crash and restart", async () => {
  const pids = execFileSync("pgrep", ["-f", memory]).toString().trim().split("\n").map(Number);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  let recovered = false;
  for (let i = 0; i < 100 && !recovered; i++) {
    try {
      await gateway.client.callTool({ name: "mem__read_graph", arguments: {} });
      recovered = true;
    } catch (error) {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.ok(recovered, "the memory backend came back");
  const echo = await gateway.client.callTool({ name: "ev__echo", arguments: { message: "still here" } });
  assert.match(echo.content[0].text, /still here/);
});

test("every call is in the audit trail", async () => {
  const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.some((e) => e.name === "ev__get-env" && e.outcome === "DENIED"));
  assert.ok(lines.some((e) => e.name === "ev__echo" && e.outcome === "ALLOWED"));
});
