// Interop: the operator page of `sentinel http` in Debian's headless Chromium, driven through
// chromedriver with the W3C WebDriver protocol over node's fetch (no npm packages). Run with
// ./run operator-page.test.mjs. Saves a screenshot to interop/artifacts/operator-page.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..");
const sentinel = join(repo, "bin", "sentinel");
const everything = join(here, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const artifacts = join(here, "artifacts");
const CHROMIUM = "/usr/bin/chromium";
const CHROMEDRIVER = "/usr/bin/chromedriver";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const TOKEN = "operator-page-token-" + "0123456789abcdef".repeat(2);
const XSS_PRINCIPAL = "<img src=x onerror=window.__xss=1>";
const XSS_TOOL = "<img src=x onerror=window.__xss=2>";
const DEADLINE_MS = 60_000;

const haveBrowser = existsSync(CHROMIUM) && existsSync(CHROMEDRIVER);
if (!haveBrowser) {
  console.error("\n" + "!".repeat(78));
  console.error("!! SKIPPING the operator page test: " + CHROMIUM + " or " + CHROMEDRIVER + " is missing.");
  console.error("!! Install them: apt-get install -y --no-install-recommends chromium chromium-driver");
  console.error("!".repeat(78) + "\n");
}

const work = mkdtempSync(join(tmpdir(), "sentinel-operator-page-"));
const children = [];
let gateway;
let base;
let driver;
let session;
let mcpKey;

function launch(command, args, options) {
  // Own process group, so that killing it also ends what it started (chromium, the JVM).
  const child = spawn(command, args, { ...options, detached: true });
  children.push(child);
  return child;
}

function killAll() {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (e) {
        try { child.kill("SIGKILL"); } catch (ignored) { /* gone */ }
      }
    }
  }
}
process.on("exit", killAll);

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitFor(what, check) {
  const deadline = Date.now() + DEADLINE_MS;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for " + what + (last ? ": " + last.message : ""));
}

async function adminApi(method, path, body) {
  const response = await fetch(base + "/admin/api/" + path, {
    method,
    headers: { Authorization: "Bearer " + TOKEN, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(method + " " + path + ": " + response.status + " " + json.error);
  return json;
}

// ---- WebDriver, W3C protocol ---------------------------------------------------------------

async function wd(method, path, body) {
  const response = await fetch(driver + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  if (!response.ok) {
    throw new Error("WebDriver " + method + " " + path + ": " + JSON.stringify(json.value));
  }
  return json.value;
}

const find = async (css) => (await wd("POST", `/session/${session}/element`, { using: "css selector", value: css }))[ELEMENT];
const click = async (css) => wd("POST", `/session/${session}/element/${await find(css)}/click`, {});
const type = async (css, text) => wd("POST", `/session/${session}/element/${await find(css)}/value`, { text });
const text = async (css) => wd("GET", `/session/${session}/element/${await find(css)}/text`);
const script = (source, args) => wd("POST", `/session/${session}/execute/sync`, { script: source, args: args || [] });

// ---- setup ---------------------------------------------------------------------------------

before(async () => {
  if (!haveBrowser) return;
  const node = process.execPath;
  writeFileSync(join(work, "sentinel.yaml"), `
gateway: { name: operator-page, request_timeout: 30s }
backends:
  - name: ev
    stdio: { command: ${JSON.stringify(node)}, args: [${JSON.stringify(everything)}, stdio], inherit_env: [PATH, HOME] }
policy:
  roles: { user: {} }
  rules:
    - id: users-use-everything
      allow: { roles: [user] }
    - id: echo-needs-a-second-person
      confirm: { tools: ["ev__echo"], when: { "/message": { equals: "approve me" } } }
      reason: a second person reads this first
database: { url: ${JSON.stringify("jdbc:sqlite:" + join(work, "sentinel.db"))} }
server: { admin: { token: "\${env:SENTINEL_ADMIN_TOKEN}" } }
`);
  gateway = launch(sentinel, ["http", "--config", join(work, "sentinel.yaml"), "--port", "0"], {
    env: { ...process.env, SENTINEL_ADMIN_TOKEN: TOKEN },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  gateway.stderr.on("data", (chunk) => { stderr += chunk; });
  base = await waitFor("sentinel http to listen", () => {
    if (gateway.exitCode !== null) {
      throw Object.assign(new Error("sentinel http exited: " + stderr), { fatal: true });
    }
    const m = /MCP on (http:\/\/[^/\s]+)\/mcp/.exec(stderr);
    return m && m[1];
  });
  await waitFor("backend ev to be up", async () =>
    (await adminApi("GET", "status")).backends.some((b) => b.name === "ev" && b.state === "UP"));
  // A client key whose principal looks like markup: the page must show it as text.
  mcpKey = (await adminApi("POST", "keys", { principal: XSS_PRINCIPAL, roles: ["user"], name: "interop" })).secret;

  const port = await freePort();
  launch(CHROMEDRIVER, ["--port=" + port, "--allowed-ips=127.0.0.1"], { stdio: "ignore" });
  driver = "http://127.0.0.1:" + port;
  await waitFor("chromedriver to be ready", async () => (await wd("GET", "/status")).ready);
  const created = await wd("POST", "/session", {
    capabilities: {
      alwaysMatch: {
        browserName: "chrome",
        "goog:chromeOptions": {
          binary: CHROMIUM,
          args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--window-size=1280,1000"],
        },
      },
    },
  });
  session = created.sessionId;
});

after(async () => {
  try {
    if (session) await wd("DELETE", `/session/${session}`);
  } catch (e) {
    console.error("ending the WebDriver session failed: " + e.message);
  } finally {
    killAll();
  }
});

async function mcpClient() {
  const client = new Client({ name: "operator-page-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(base + "/mcp"), {
    requestInit: { headers: { Authorization: "Bearer " + mcpKey } },
  }));
  return client;
}

test("the operator page shows audit events and backend health, and its kill switch stops MCP calls",
  { skip: haveBrowser ? false : "chromium or chromedriver is missing (see the message above)" }, async () => {
    const client = await mcpClient();
    let echo;
    try {
      const tools = await client.listTools();
      echo = tools.tools.map((t) => t.name).find((name) => name.endsWith("echo"));
      assert.ok(echo, "the gateway lists an echo tool");
      const answer = await client.callTool({ name: echo, arguments: { message: "hello operator" } });
      assert.notEqual(answer.isError, true);
    } finally {
      await client.close();
    }
    await adminApi("POST", "killswitch/disable", { scope: "tool", target: XSS_TOOL, reason: "markup test" });

    await wd("POST", `/session/${session}/url`, { url: base + "/admin/" });
    await type("#token", TOKEN);
    await click("#sign-in");

    // A recent audit event: the echo call, by the principal that looks like markup.
    await waitFor("the echo call in the audit table", async () => {
      await click("#audit-refresh");
      return (await text("#audit")).includes(echo);
    });
    const principals = await script(
      "return [...document.querySelectorAll('#audit tr')].map(r => r.children[1].textContent);");
    assert.ok(principals.includes(XSS_PRINCIPAL), "the principal is shown as text: " + principals);
    assert.ok((await text("#ks-entries")).includes(XSS_TOOL), "the tool glob is shown as text");
    assert.equal(await script("return document.querySelectorAll('img').length;"), 0);
    assert.equal(await script("return window.__xss === undefined;"), true);

    // Backend health.
    await waitFor("backend ev shown UP", async () =>
      (await text("#backends tr[data-backend='ev'] td:nth-child(2)")) === "UP");

    // The kill switch: disable everything from the page, then an MCP call is refused.
    await click("#toggle-all");
    await waitFor("the page to show everything disabled", async () =>
      (await text("#ks-all-state")).includes("disabled"));
    assert.notEqual((await adminApi("GET", "killswitch")).all, null);
    const refused = await mcpClient();
    try {
      let outcome;
      try {
        const result = await refused.callTool({ name: echo, arguments: { message: "blocked?" } });
        outcome = JSON.stringify(result);
        assert.equal(result.isError, true, "the call is refused: " + outcome);
      } catch (e) {
        outcome = e.message;
      }
      assert.match(outcome, /disabled/i);
    } finally {
      await refused.close();
    }
    await waitFor("the refusal in the audit table", async () => {
      await click("#audit-refresh");
      return (await text("#audit")).includes("disabled");
    });

    mkdirSync(artifacts, { recursive: true });
    const png = await wd("GET", `/session/${session}/screenshot`);
    writeFileSync(join(artifacts, "operator-page.png"), Buffer.from(png, "base64"));

    await click("#toggle-all");
    await waitFor("everything enabled again", async () => (await adminApi("GET", "killswitch")).all === null);
  });

test("the operator page lists a call a confirm rule holds, and approving it there lets the identical call run once",
  { skip: haveBrowser ? false : "chromium or chromedriver is missing (see the message above)" }, async () => {
    const client = await mcpClient();
    try {
      const tools = await client.listTools();
      const echo = tools.tools.map((t) => t.name).find((name) => name.endsWith("echo"));
      const ask = async () => {
        try {
          const result = await client.callTool({ name: echo, arguments: { message: "approve me" } });
          return result.isError ? JSON.stringify(result) : "ran";
        } catch (e) {
          return e.message;
        }
      };
      const held = await ask();
      const id = (/approval ([a-z2-7]{12})/.exec(held) || [])[1];
      assert.ok(id, "the refusal names the approval: " + held);

      await wd("POST", `/session/${session}/url`, { url: base + "/admin/" });
      if (!(await script("return !document.getElementById('console').hidden;"))) {
        await type("#token", TOKEN);
        await click("#sign-in");
      }
      await waitFor("the held call in the approvals table", async () => {
        await click("#ap-refresh");
        return (await text("#approvals")).includes(id);
      });
      assert.ok((await text("#approvals")).includes("approve me"), "the arguments are shown");
      // Four eyes: the caller cannot approve its own call, from the page either.
      await type("#ap-by", XSS_PRINCIPAL);
      await script(`document.querySelector("#approvals tr[data-id='${id}'] button").click();`);
      await waitFor("the page to say four eyes", async () => (await text("#message")).includes("four eyes"));
      assert.equal(await script("return window.__xss === undefined;"), true);

      await script("document.getElementById('ap-by').value = '';");
      await type("#ap-by", "operator-ann");
      await script(`document.querySelector("#approvals tr[data-id='${id}'] button").click();`);
      await waitFor("the approval to be recorded", async () =>
        (await adminApi("GET", "approvals/" + id)).status === "approved");

      assert.equal(await ask(), "ran", "the identical call runs once approved");
      assert.match(await ask(), /approval [a-z2-7]{12}/, "and needs a new approval after that");
      assert.equal((await adminApi("GET", "approvals/" + id)).status, "used");
    } finally {
      await client.close();
    }
  });

test("the operator page shows the fleet: a gateway that stopped heartbeating is stale, its error and bundle shown",
  { skip: haveBrowser ? false : "chromium or chromedriver is missing (see the message above)" }, async () => {
    // A gateway of another host following channel prod, last seen long ago, as its heartbeat
    // row says: written into the shared database the way that gateway would have.
    const instance = "gw-far-away" + XSS_TOOL;
    execFileSync("sqlite3", [join(work, "sentinel.db"), "INSERT INTO sentinel_heartbeat (instance, host,"
      + " version, channel, digest, sequence, revision, last_error, started_at, seen_at) VALUES ('"
      + instance.replace(/'/g, "''") + "', 'far', '0.1.0', 'prod', 'sha256:3b1f00c2d9e4aa', 3, 'r1',"
      + " 'signed by 0 of the 1 trusted keys', 0, 0)"]);
    await wd("POST", `/session/${session}/url`, { url: base + "/admin/" });
    if (!(await script("return !document.getElementById('console').hidden;"))) {
      await type("#token", TOKEN);
      await click("#sign-in");
    }
    await waitFor("the fleet section", async () =>
      await script("return !document.getElementById('fleet-section').hidden;"));
    const row = await text("#fleet");
    assert.ok(row.includes("gw-far-away"), row);
    assert.ok(row.includes("stale"), row);
    assert.ok(row.includes("sha256:3b1f00c2d9e4"), row);
    assert.ok(row.includes("none published"), row);
    assert.ok(row.includes("signed by 0 of the 1 trusted keys"), row);
    assert.equal(await script("return window.__xss === undefined;"), true);
    assert.equal((await adminApi("GET", "fleet")).gateways[0].state, "stale", "the page shows what the API says");
  });

async function connectsWith(key) {
  const client = new Client({ name: "operator-page-keys", version: "1.0.0" });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(base + "/mcp"), {
      requestInit: { headers: { Authorization: "Bearer " + key } },
    }));
    await client.listTools();
    return true;
  } catch (e) {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

test("the operator page creates a key and shows its secret once, then rotates and revokes it",
  { skip: haveBrowser ? false : "chromium or chromedriver is missing (see the message above)" }, async () => {
    await wd("POST", `/session/${session}/url`, { url: base + "/admin/" });
    if (!(await script("return !document.getElementById('console').hidden;"))) {
      await type("#token", TOKEN);
      await click("#sign-in");
    }
    // The interop key, made through the API: listed, its principal shown as text.
    await waitFor("the keys table", async () => (await text("#keys")).includes("interop"));
    assert.equal(await script("return window.__xss === undefined;"), true);
    // Rotating and revoking ask first: this test says yes.
    await script("window.confirm = () => true;");

    await type("#key-principal", "page-made");
    await type("#key-roles", "user");
    await type("#key-name", "from the page");
    await click("#key-create");
    await waitFor("the new key's secret", async () =>
      await script("return !document.getElementById('key-secret').hidden;"));
    const secret = await script("return document.getElementById('key-secret-value').value;");
    const id = (/New key (\S+) for page-made/.exec(await text("#key-secret-title")) || [])[1];
    assert.ok(secret && id, "the page shows the new key once: " + secret + " " + id);
    assert.ok(await connectsWith(secret), "the new key authenticates an MCP client");
    // At 1280 px no word of any table is broken across two lines (headers and cells alike).
    const broken = await script(`
      const split = [];
      for (const cell of document.querySelectorAll("th, td")) {
        if (cell.offsetParent === null) continue;
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (const m of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (lines.size > 1) split.push(m[0]);
          }
        }
      }
      return split;`);
    assert.deepEqual(broken, [], "words broken across lines at 1280 px");
    mkdirSync(artifacts, { recursive: true });
    await script("document.getElementById('keys-section').scrollIntoView();");
    writeFileSync(join(artifacts, "operator-page-keys.png"),
      Buffer.from(await wd("GET", `/session/${session}/screenshot`), "base64"));

    // Done: the secret is gone from the page, and nothing stored it.
    await click("#key-secret-done");
    assert.equal(await script("return document.getElementById('key-secret-value').value;"), "");
    const kept = await script("return document.documentElement.outerHTML + JSON.stringify(sessionStorage)"
      + " + JSON.stringify(localStorage);");
    assert.ok(!kept.includes(secret), "the secret is nowhere on the page once done");
    assert.ok(!JSON.stringify(await adminApi("GET", "keys")).includes(secret), "nor in the key list");
    await waitFor("the new key listed as active", async () =>
      (await text(`#keys tr[data-id='${id}'] td:nth-child(5)`)) === "active");

    // Rotate: a new secret, shown once; the old key stops working.
    await script(`[...document.querySelectorAll("#keys tr[data-id='${id}'] button")]`
      + `.find(b => b.textContent === "Rotate").click();`);
    await waitFor("the rotated key's secret", async () =>
      (await text("#key-secret-title")).includes("replaces " + id));
    const rotated = await script("return document.getElementById('key-secret-value').value;");
    const rotatedId = (/Key (\S+) replaces/.exec(await text("#key-secret-title")) || [])[1];
    assert.ok(rotated && rotated !== secret && rotatedId);
    assert.ok(await connectsWith(rotated), "the rotated key works");
    assert.equal(await connectsWith(secret), false, "the old key no longer works");
    await click("#key-secret-done");

    // Revoke: the key stops working, the table says so and offers nothing more.
    await waitFor("the rotated key listed", async () =>
      await script(`return document.querySelector("#keys tr[data-id='${rotatedId}'] button") !== null;`));
    await script(`[...document.querySelectorAll("#keys tr[data-id='${rotatedId}'] button")]`
      + `.find(b => b.textContent === "Revoke").click();`);
    await waitFor("the key shown revoked", async () =>
      (await text(`#keys tr[data-id='${rotatedId}'] td:nth-child(5)`)) === "revoked");
    assert.equal(await connectsWith(rotated), false, "a revoked key no longer works");
    assert.equal(await script(`return document.querySelectorAll("#keys tr[data-id='${rotatedId}'] button").length;`), 0);
  });
