// A model-API upstream for the interop suite: OpenAI's chat completions (streamed and not),
// embeddings and models, and Anthropic's messages (streamed and not) and count_tokens, on
// 127.0.0.1. Each answer echoes the last user message, with usage counted in words, so that a
// test can tell which request it answers. It records the headers of every request (to show
// which credential reached it). The test proves it with the official clients directly before
// putting the gateway in front of it.
import { createServer } from "node:http";

export const UPSTREAM_KEY = "sk-upstream-interop-0123456789";

function lastUserText(messages) {
  const user = [...(messages || [])].reverse().find((m) => m.role === "user");
  if (!user) return "";
  if (typeof user.content === "string") return user.content;
  return (user.content || []).filter((c) => c.type === "text").map((c) => c.text).join(" ");
}

function words(text) {
  return text.split(/\s+/).filter(Boolean).length;
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => ok(Buffer.concat(chunks).toString("utf8")));
    req.on("error", fail);
  });
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sse(res) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
}

function openaiChat(res, body) {
  const text = "echo: " + lastUserText(body.messages);
  const usage = { prompt_tokens: words(lastUserText(body.messages)), completion_tokens: words(text) };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const base = { id: "chatcmpl-interop", created: 1764900000, model: body.model };
  if (!body.stream) {
    return json(res, 200, { ...base, object: "chat.completion", usage,
      choices: [{ index: 0, finish_reason: "stop", logprobs: null,
        message: { role: "assistant", content: text, refusal: null } }] });
  }
  sse(res);
  const chunk = (delta, finish) => ({ ...base, object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  res.write(`data: ${JSON.stringify(chunk({ role: "assistant", content: "" }, null))}\n\n`);
  for (const part of text.split(/(?<= )/)) {
    res.write(`data: ${JSON.stringify(chunk({ content: part }, null))}\n\n`);
  }
  res.write(`data: ${JSON.stringify(chunk({}, "stop"))}\n\n`);
  if (body.stream_options && body.stream_options.include_usage) {
    res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage })}\n\n`);
  }
  res.end("data: [DONE]\n\n");
}

function anthropicMessage(res, body) {
  const text = "echo: " + lastUserText(body.messages);
  const usage = { input_tokens: words(lastUserText(body.messages)), output_tokens: words(text) };
  const message = { id: "msg_interop", type: "message", role: "assistant", model: body.model,
    stop_reason: "end_turn", stop_sequence: null };
  if (!body.stream) {
    return json(res, 200, { ...message, content: [{ type: "text", text }], usage });
  }
  sse(res);
  const event = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  event("message_start", { message: { ...message, content: [], stop_reason: null,
    usage: { input_tokens: usage.input_tokens, output_tokens: 0 } } });
  event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
  for (const part of text.split(/(?<= )/)) {
    event("content_block_delta", { index: 0, delta: { type: "text_delta", text: part } });
  }
  event("content_block_stop", { index: 0 });
  event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: usage.output_tokens } });
  event("message_stop", {});
  res.end();
}

/** Starts the upstream; resolves with { url, requests, close }. */
export function startUpstream() {
  const requests = [];
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    const openaiKey = req.headers.authorization === `Bearer ${UPSTREAM_KEY}`;
    const anthropicKey = req.headers["x-api-key"] === UPSTREAM_KEY;
    if (!openaiKey && !anthropicKey) {
      return json(res, 401, { error: { message: "invalid upstream key", type: "invalid_request_error" } });
    }
    const body = raw ? JSON.parse(raw) : {};
    if (req.method === "POST" && req.url === "/v1/chat/completions") return openaiChat(res, body);
    if (req.method === "POST" && req.url === "/v1/embeddings") {
      return json(res, 200, { object: "list", model: body.model,
        data: [{ object: "embedding", index: 0, embedding: [0.25, 0.5, 0.75] }],
        usage: { prompt_tokens: words(String(body.input)), total_tokens: words(String(body.input)) } });
    }
    if (req.method === "POST" && req.url === "/v1/messages") return anthropicMessage(res, body);
    if (req.method === "POST" && req.url === "/v1/messages/count_tokens") {
      return json(res, 200, { input_tokens: words(lastUserText(body.messages)) });
    }
    if (req.method === "GET" && req.url === "/v1/models") {
      return json(res, 200, { object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "interop" }] });
    }
    json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: "not_found" } });
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({
    url: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  })));
}
