// Interop of the LLM route: the official OpenAI (openai@7) and Anthropic (@anthropic-ai/sdk@1)
// Node clients against `sentinel http`, in front of the upstream fixture in upstream.mjs. The
// same clients first run against the fixture directly, which proves it speaks both APIs as the
// clients expect; then through the gateway, with a Sentinel API key: answers equal, streams,
// aliases, a model the role may not use and a body condition refused in each API's own error
// shape, and the upstream never sees the client's key. Run with ./run llm/llm.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { everything, sentinel, workDir, createKey, startProcess, stopProcess } from "../lib/harness.mjs";
import { startUpstream, UPSTREAM_KEY } from "./upstream.mjs";

let upstream;
let gateway;
let origin;
let key;
let dir;

const say = (text) => [{ role: "user", content: text }];

async function streamedText(stream) {
  let text = "";
  for await (const chunk of stream) {
    for (const choice of chunk.choices || []) text += choice.delta?.content || "";
  }
  return text;
}

async function anthropicStreamedText(stream) {
  let text = "";
  for await (const event of stream) {
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
  }
  return text;
}

before(async () => {
  upstream = await startUpstream();
  dir = workDir("llm");
  const config = join(dir, "sentinel.yaml");
  writeFileSync(config, `
gateway: { name: llm-interop }
backends:
  - name: everything
    stdio: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(everything)}], inherit_env: [PATH, HOME] }
policy:
  roles: { user: {} }
  rules:
    - id: users-small-models
      allow: { roles: [user], models: [gpt-4o-mini, text-embedding-3-small, claude-haiku-4-5] }
    - id: bounded-answers
      deny: { models: ["*"], when: { /max_tokens: { gt: 1000 } } }
      reason: at most 1000 tokens per answer
llm:
  upstreams:
    - name: oai
      api: openai
      base_url: ${upstream.url}
      api_key: "\${env:UPSTREAM_KEY}"
      models: [gpt-4o-mini, gpt-4o, text-embedding-3-small]
    - name: ant
      api: anthropic
      base_url: ${upstream.url}
      api_key: "\${env:UPSTREAM_KEY}"
      models: [claude-haiku-4-5, claude-opus-4-1]
  aliases: { default: gpt-4o-mini }
audit:
  sinks: [ { jsonl: audit.jsonl } ]
`);
  key = createKey(config, "ann", ["user"]);
  gateway = startProcess(sentinel, ["http", "--config", config, "--port", "0"], {
    env: { ...process.env, UPSTREAM_KEY: UPSTREAM_KEY }, ready: /MCP on (http:\/\/\S+)/ });
  const [, mcp] = await gateway.started;
  origin = new URL(mcp).origin;
});

after(async () => {
  await stopProcess(gateway);
  if (upstream) await upstream.close();
});

test("the fixture speaks both APIs to the official clients directly", async () => {
  const openai = new OpenAI({ apiKey: UPSTREAM_KEY, baseURL: upstream.url, maxRetries: 0 });
  const chat = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: say("hello there") });
  assert.equal(chat.choices[0].message.content, "echo: hello there");
  assert.equal(chat.usage.prompt_tokens, 2);
  const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: say("a b c"), stream: true });
  assert.equal(await streamedText(stream), "echo: a b c");
  const embedded = await openai.embeddings.create({ model: "text-embedding-3-small", input: "x y" });
  assert.deepEqual(embedded.data[0].embedding, [0.25, 0.5, 0.75]);

  const anthropic = new Anthropic({ apiKey: UPSTREAM_KEY, baseURL: upstream.url.replace(/\/v1$/, ""), maxRetries: 0 });
  const message = await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: say("hi claude") });
  assert.equal(message.content[0].text, "echo: hi claude");
  const streamed = await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: say("one two"), stream: true });
  assert.equal(await anthropicStreamedText(streamed), "echo: one two");
});

test("OpenAI client through the gateway: the same answers, streamed and not, an alias, embeddings", async () => {
  const openai = new OpenAI({ apiKey: key, baseURL: `${origin}/v1`, maxRetries: 0 });
  const chat = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: say("through sentinel") });
  assert.equal(chat.choices[0].message.content, "echo: through sentinel");
  assert.equal(chat.usage.total_tokens, 5);

  const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: say("streamed through"), stream: true });
  assert.equal(await streamedText(stream), "echo: streamed through");

  const aliased = await openai.chat.completions.create({ model: "default", messages: say("by alias") });
  assert.equal(aliased.model, "gpt-4o-mini");
  assert.equal(aliased.choices[0].message.content, "echo: by alias");

  const embedded = await openai.embeddings.create({ model: "text-embedding-3-small", input: "x y" });
  assert.deepEqual(embedded.data[0].embedding, [0.25, 0.5, 0.75]);

  const models = [];
  for await (const model of openai.models.list()) models.push(model.id);
  assert.ok(models.includes("gpt-4o-mini"), models.join(","));
  assert.ok(!models.includes("gpt-4o"), "a model the role may not use is not listed: " + models.join(","));
});

test("OpenAI client: refusals arrive as OpenAI errors, and nothing reaches the upstream", async () => {
  const openai = new OpenAI({ apiKey: key, baseURL: `${origin}/v1`, maxRetries: 0 });
  const before = upstream.requests.length;

  await assert.rejects(openai.chat.completions.create({ model: "gpt-4o", messages: say("big model") }),
    (error) => error instanceof OpenAI.PermissionDeniedError && error.status === 403);
  await assert.rejects(
    openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 2000, messages: say("long") }),
    (error) => error instanceof OpenAI.PermissionDeniedError && /at most 1000 tokens/.test(error.message));
  const stranger = new OpenAI({ apiKey: "snk_not_a_key_of_this_gateway_000000", baseURL: `${origin}/v1`, maxRetries: 0 });
  await assert.rejects(stranger.chat.completions.create({ model: "gpt-4o-mini", messages: say("who") }),
    (error) => error instanceof OpenAI.AuthenticationError && error.status === 401);

  assert.equal(upstream.requests.length, before);
});

test("Anthropic client through the gateway: messages streamed and not, count_tokens, a refusal", async () => {
  const anthropic = new Anthropic({ apiKey: key, baseURL: origin, maxRetries: 0 });
  const message = await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: say("hi gateway") });
  assert.equal(message.content[0].text, "echo: hi gateway");
  assert.equal(message.usage.input_tokens, 2);

  const streamed = await anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: say("stream me"), stream: true });
  assert.equal(await anthropicStreamedText(streamed), "echo: stream me");

  const counted = await anthropic.messages.countTokens({ model: "claude-haiku-4-5", messages: say("count these three") });
  assert.equal(counted.input_tokens, 3);

  const before = upstream.requests.length;
  await assert.rejects(anthropic.messages.create({ model: "claude-opus-4-1", max_tokens: 100, messages: say("no") }),
    (error) => error instanceof Anthropic.PermissionDeniedError && error.status === 403
      && error.error?.type === "error");
  assert.equal(upstream.requests.length, before);
});

/** The model calls in the audit trail, once `count` of them are there (the trail is written asynchronously). */
async function modelRecords(count) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const trail = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n")
      .filter((l) => l).map((l) => JSON.parse(l));
    const model = trail.filter((e) => e.method === "llm/chat" || e.method === "llm/embeddings");
    if (model.length >= count || Date.now() > deadline) return { trail, model };
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the upstream only ever saw the gateway's key, and the trail has one record per governed request", async () => {
  assert.ok(upstream.requests.length > 0);
  for (const request of upstream.requests) {
    const headers = JSON.stringify(request.headers);
    assert.ok(!headers.includes(key), `the client's key reached the upstream: ${request.url}`);
  }
  const { trail, model } = await modelRecords(10);
  // 4 OpenAI calls and 3 Anthropic ones, 3 refusals by the policy; the stranger's 401 is logged,
  // not audited (an unauthenticated flood must not fill the trail).
  assert.equal(model.length, 10, JSON.stringify(model.map((e) => [e.method, e.name, e.outcome])));
  assert.ok(model.every((e) => e.principal === "ann"));
  assert.ok(model.some((e) => e.outcome === "DENIED" && e.name === "gpt-4o"));
  assert.ok(model.some((e) => e.outcome === "DENIED" && e.name === "claude-opus-4-1"));
  assert.ok(!JSON.stringify(trail).includes(UPSTREAM_KEY), "the upstream key is never in the trail");
});
