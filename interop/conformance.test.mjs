// The official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios, the
// active suite) against `sentinel http`: fronting this project's fixture server, every active
// scenario passes; fronting server-everything, every scenario that passes against
// server-everything directly passes through Sentinel too, and dns-rebinding-protection passes.
// With the suite's 0.2.0 alpha, `--requirements 2026-07-28` through `sentinel http` fronting the
// dual-era fixture (fixtures/conformance-server-2026.mjs, on the TypeScript SDK 2.x server, which
// Sentinel reaches at 2026-07-28): every scored scenario passes, the multi round-trip ones
// included (the fixture's own input_required results, relayed), and the pending ones too, and
// the Tasks extension's tasks-* scenarios (not scored) pass as well.
// The suite cannot send credentials, so these gateways map requests without credentials to a
// principal (`server.anonymous`); wrong credentials are still refused (http-sdk.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  fixture, fixture2026, everything, workDir, writeGatewayConfig, startGateway, startEverythingHttp,
  startFixture2026Http, runConformance, listedScenarios, resultTable, withProcess, unscoredScenarios, scenarioFailures as failuresOf,
  assertTasksPass,
} from "./lib/harness.mjs";

function gatewayFronting(name, args) {
  const config = writeGatewayConfig(workDir("conformance"), {
    name, command: process.execPath, args, anonymous: "conformance" });
  return () => startGateway(config);
}

function activeCount(run) {
  const count = /Running active suite \((\d+) scenarios\)/.exec(run.output);
  assert.ok(count, "the suite says how many scenarios it runs:\n" + run.output.slice(0, 2000));
  return Number(count[1]);
}

test("every active conformance scenario passes through sentinel http fronting the fixture server", async (t) => {
  const run = await withProcess(gatewayFronting("fixture", [fixture]), async ({ url }) => runConformance(url));
  const names = [...run.scenarios.keys()].sort();
  const table = resultTable([{ title: "fixture through sentinel http", run }], names);
  t.diagnostic("\n" + table);
  assert.equal(run.scenarios.size, activeCount(run), "a result for every active scenario");
  assert.ok(run.scenarios.size >= 30, `ran ${run.scenarios.size} scenarios`);
  assert.deepEqual(failuresOf(run, names), []);
});

for (const transport of ["stdio", "Streamable HTTP"]) {
  test(`MCP 2026-07-28 requirements through sentinel http fronting the dual-era fixture on ${transport}: every scored scenario passes`, async (t) => {
    // On stdio Sentinel starts the fixture; over HTTP the fixture runs first and Sentinel reaches it by URL.
    const gatewayFor = (backend) => backend
      ? () => startGateway(writeGatewayConfig(workDir("conformance"), { name: "fixture", url: backend.url, anonymous: "conformance" }))
      : gatewayFronting("fixture", [fixture2026]);
    const runThrough = (backend) => withProcess(gatewayFor(backend), async ({ url, handle }) => {
      const result = await runConformance(url, { requirements: "2026-07-28" });
      assert.match(handle.output, /backend fixture is up \(MCP 2026-07-28\)/, "Sentinel reached the fixture at 2026-07-28");
      return result;
    });
    const run = transport === "stdio" ? await runThrough(null) : await withProcess(startFixture2026Http, runThrough);
    const count = /Running requirements 2026-07-28 \((\d+) scenarios\)/.exec(run.output);
    assert.ok(count, "the suite says how many scenarios it runs:\n" + run.output.slice(0, 2000));
    assert.equal(run.scenarios.size, Number(count[1]), "a result for every scenario");
    const unscored = unscoredScenarios(run);
    const scored = [...run.scenarios.keys()].filter((n) => !unscored.has(n)).sort();
    const passing = scored.filter((n) => run.scenarios.get(n).passed);
    t.diagnostic(`2026-07-28 scored scenarios: ${passing.length}/${scored.length} pass`);
    t.diagnostic("\n" + resultTable([{ title: "dual-era fixture through sentinel http (2026-07-28)", run }],
      [...scored, ...[...unscored.keys()].sort()]));
    assert.ok(scored.length >= 37, `scored ${scored.length} scenarios`);
    assert.ok(scored.some((n) => n.startsWith("input-required-result-")), "the multi round-trip scenarios are scored");
    assert.deepEqual(failuresOf(run, scored), [], "every scored scenario passes");
    // Pending scenarios are not scored yet; they pass all the same (the headers Sentinel checks).
    const pending = [...unscored].filter(([, kind]) => kind === "pending").map(([n]) => n);
    assert.ok(pending.length > 0, "some pending scenarios ran");
    assert.deepEqual(failuresOf(run, pending), []);
    // The Tasks extension (`tasks-*`, not scored: an extension): relayed under the gateway's own
    // task ids, every scenario passes (tasks-status-notifications is skipped by the suite itself).
    assertTasksPass(run, unscored);
  });
}

test("server-everything: what passes directly passes through sentinel http, and DNS rebinding is refused", async (t) => {
  const direct = await withProcess(startEverythingHttp, async ({ url }) => runConformance(url));
  const via = await withProcess(gatewayFronting("everything", [everything, "stdio"]), async ({ url }) => runConformance(url));
  const listed = listedScenarios();
  const names = listed.filter((n) => direct.scenarios.has(n) || via.scenarios.has(n));
  const table = resultTable([
    { title: "server-everything directly", run: direct },
    { title: "through sentinel http", run: via },
  ], names);
  t.diagnostic("\n" + table);
  for (const [name, result] of direct.scenarios) {
    if (!result.passed) t.diagnostic(`fails directly: ${name}: ${result.failures.join("; ")}`);
  }
  assert.equal(direct.scenarios.size, activeCount(direct));
  assert.equal(via.scenarios.size, activeCount(via));
  const passingDirectly = names.filter((n) => direct.scenarios.get(n)?.passed);
  assert.ok(passingDirectly.length > 0, "some scenarios pass directly");
  // These scenarios call test_* tools that server-everything does not list. Directly it answers
  // with an isError result, which the scenarios accept; Sentinel (validate: enforce, the default)
  // refuses a call of a tool that no listing holds, by rule schema, and that is what it must do.
  const unlisted = ["tools-call-error", "tools-call-simple-text"];
  assert.deepEqual(failuresOf(via, passingDirectly.filter((n) => !unlisted.includes(n))), [],
    "what passes directly passes through Sentinel");
  for (const name of unlisted.filter((n) => via.scenarios.has(n) && !via.scenarios.get(n).passed)) {
    assert.match(via.scenarios.get(name).failures.join("; "), /-32012: denied by rule schema: .* is not listed by backend everything/,
      `${name} is refused only because its tool is not listed`);
  }
  assert.deepEqual(failuresOf(via, ["dns-rebinding-protection"]), []);
});
