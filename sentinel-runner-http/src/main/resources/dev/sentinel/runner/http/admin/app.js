// The operator page: vanilla JS, no framework, no CDN. Every value from the gateway is rendered
// with textContent, never parsed as HTML: tool names, arguments and principals come from clients.
"use strict";

const TOKEN_KEY = "sentinel-admin-token";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.className = isError ? "error" : "";
}

async function api(path, options) {
  const opts = options || {};
  const headers = { Authorization: "Bearer " + token() };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch("api/" + path, {
    method: opts.method || "GET",
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    cache: "no-store",
    credentials: "omit",
  });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    show(false);
    throw new Error("the admin token was refused");
  }
  if (!response.ok && !(opts.accept || []).includes(response.status)) {
    throw new Error((body && body.error) || ("HTTP " + response.status));
  }
  return { status: response.status, body };
}

function cell(row, text, className) {
  const td = document.createElement("td");
  const value = text === null || text === undefined ? "" : String(text);
  // Lines break only between words: each word is kept whole (times, ids and rule names have
  // hyphens a browser would break at). Text nodes only, never markup.
  for (const part of value.split(/(\s+)/)) {
    if (/^\s+$/.test(part)) {
      td.appendChild(document.createTextNode(part));
    } else if (part) {
      const word = document.createElement("span");
      word.className = "w";
      word.textContent = part;
      td.appendChild(word);
    }
  }
  if (className) {
    td.className = className;
  }
  row.appendChild(td);
  return td;
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

async function change(action, scope, target) {
  const body = { scope };
  if (target !== undefined) {
    body.target = target;
  }
  if (action === "disable") {
    body.reason = $("ks-reason").value || "disabled by an operator";
  }
  try {
    await api("killswitch/" + action, { method: "POST", body });
    say((action === "disable" ? "Disabled " : "Enabled ") + scope + (target ? " " + target : ""));
  } catch (e) {
    say(e.message, true);
  }
  await refreshStatus();
}

let killSwitch = { all: null, backends: {}, tools: {}, principals: {} };

function renderStatus(s) {
  $("revision").textContent = s.revision;
  $("reload").disabled = !s.reload;
  $("sessions").textContent = String(s.sessions);
  const a = s.audit;
  $("audit-stats").textContent = a.recorded + " recorded, " + a.written + " written, "
    + a.dropped + " dropped, queue " + a.queue_depth + (a.healthy ? "" : " (sink failing)");
  killSwitch = s.kill_switch;
  const tbody = $("backends");
  tbody.replaceChildren();
  for (const b of s.backends) {
    const row = document.createElement("tr");
    row.dataset.backend = b.name;
    cell(row, b.name);
    cell(row, b.state, b.state);
    cell(row, b.restarts);
    cell(row, b.connections + " (" + b.isolation.replace("_", " ") + ")");
    cell(row, b.last_error);
    const td = cell(row, "");
    const disabled = Object.prototype.hasOwnProperty.call(killSwitch.backends, b.name);
    td.appendChild(disabled
      ? button("Enable", () => change("enable", "backend", b.name))
      : button("Disable", () => change("disable", "backend", b.name)));
    tbody.appendChild(row);
  }
  $("toggle-all").textContent = killSwitch.all === null ? "Disable everything" : "Enable everything";
  $("ks-all-state").textContent = killSwitch.all === null ? "" : "Everything is disabled: " + killSwitch.all;
  const list = $("ks-entries");
  list.replaceChildren();
  for (const [scope, map] of [["backend", killSwitch.backends], ["tool", killSwitch.tools], ["principal", killSwitch.principals]]) {
    for (const [target, reason] of Object.entries(map)) {
      const li = document.createElement("li");
      li.dataset.scope = scope;
      li.dataset.target = target;
      const label = document.createElement("span");
      label.textContent = scope + " " + target + ": " + reason + " ";
      li.appendChild(label);
      li.appendChild(button("Enable", () => change("enable", scope, target)));
      list.appendChild(li);
    }
  }
}

async function refreshStatus() {
  try {
    const { body } = await api("status");
    renderStatus(body);
    // A named operator decides as themselves: the page fills in the name and locks it.
    for (const id of ["ap-by", "bg-by"]) {
      if (body.operator) {
        $(id).value = body.operator;
      }
      $(id).readOnly = Boolean(body.operator);
    }
  } catch (e) {
    say(e.message, true);
  }
}

async function refreshAudit() {
  const params = new URLSearchParams();
  for (const [name, id] of [["principal", "f-principal"], ["tool", "f-tool"], ["outcome", "f-outcome"]]) {
    const value = $(id).value.trim();
    if (value) {
      params.set(name, value);
    }
  }
  params.set("limit", "100");
  try {
    const { body } = await api("audit?" + params.toString());
    const tbody = $("audit");
    tbody.replaceChildren();
    for (const e of body.events) {
      const row = document.createElement("tr");
      row.dataset.id = e.id;
      cell(row, e.time);
      cell(row, e.principal);
      cell(row, e.method);
      cell(row, e.name);
      cell(row, e.outcome ? e.outcome.toLowerCase() : "", e.outcome ? e.outcome.toLowerCase() : "");
      cell(row, (e.rules || []).join(", "));
      cell(row, e.reason);
      cell(row, e.revision);
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

// Characters a reader would not see (tag characters, bidi controls, zero-width and other format
// characters) shown as \u{...}: a hidden instruction must not stay hidden on this page.
function visible(text) {
  return String(text).replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu,
    (c) => "\\u{" + c.codePointAt(0).toString(16).toUpperCase() + "}");
}

function jsonText(value) {
  return value === null || value === undefined ? "" : visible(JSON.stringify(value));
}

function pinPath(pin) {
  return "tools/pins/" + encodeURIComponent(pin.backend) + "/" + encodeURIComponent(pin.tool);
}

let reviewed = null;

async function refreshTools() {
  try {
    const { body } = await api("tools/pins?held=true", { accept: [404] });
    if (!body || !body.pins) {
      $("tools-section").hidden = true;
      return;
    }
    const tbody = $("held-tools");
    tbody.replaceChildren();
    for (const pin of body.pins) {
      const row = document.createElement("tr");
      row.dataset.backend = pin.backend;
      row.dataset.tool = pin.tool;
      cell(row, pin.backend);
      cell(row, visible(pin.tool));
      cell(row, pin.state, pin.state);
      cell(row, (pin.pending_digest || "").slice(0, 12), "mono");
      cell(row, pin.updated_at);
      cell(row, "").appendChild(button("Review", () => review(pin)));
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

async function review(pin) {
  try {
    const { body } = await api(pinPath(pin));
    reviewed = body;
    $("tool-review").hidden = false;
    $("review-title").textContent = visible(body.tool) + " of " + body.backend + ": " + body.state
      + " (listed " + (body.pending_digest || "").slice(0, 12) + ")";
    const changes = $("review-changes");
    changes.replaceChildren();
    for (const c of body.changes) {
      const row = document.createElement("tr");
      cell(row, visible(c.pointer || "(whole definition)"), "mono");
      cell(row, jsonText(c.before), "mono");
      cell(row, jsonText(c.after), "mono");
      changes.appendChild(row);
    }
    const findings = $("review-findings");
    findings.replaceChildren();
    for (const f of body.findings) {
      const li = document.createElement("li");
      li.textContent = "Hidden instructions at " + visible(f.pointer) + ": " + f.kind + ", "
        + visible(f.detail);
      findings.appendChild(li);
    }
  } catch (e) {
    say(e.message, true);
  }
}

async function decidePin(action) {
  if (!reviewed || !reviewed.pending_digest) {
    return;
  }
  const body = action === "approve" ? { digest: reviewed.pending_digest } : {};
  try {
    await api(pinPath(reviewed) + "/" + action, { method: "POST", body });
    say((action === "approve" ? "Approved " : "Rejected ") + visible(reviewed.tool) + " of "
      + reviewed.backend);
    $("tool-review").hidden = true;
    reviewed = null;
  } catch (e) {
    say(e.message, true);
  }
  await refreshTools();
}

async function decide(id, action) {
  const by = $("ap-by").value.trim();
  if (!by) {
    say("Say who decides: your principal id, in 'Decide as'.", true);
    return;
  }
  const body = { by };
  if (action === "deny") {
    body.reason = "denied on the operator page";
  }
  try {
    const { body: a } = await api("approvals/" + encodeURIComponent(id) + "/" + action,
      { method: "POST", body });
    say((action === "approve" ? "Approved " : "Denied ") + a.id + " (" + a.status + ")");
  } catch (e) {
    say(e.message, true);
  }
  await refreshApprovals();
}

async function refreshApprovals() {
  try {
    const { status, body } = await api("approvals", { accept: [404] });
    $("approvals-section").hidden = status === 404;
    if (status === 404) {
      return;
    }
    const tbody = $("approvals");
    tbody.replaceChildren();
    for (const a of body.approvals) {
      const row = document.createElement("tr");
      row.dataset.id = a.id;
      cell(row, a.id);
      cell(row, a.principal);
      cell(row, a.name + (a.backend ? " on " + a.backend : ""));
      cell(row, jsonText(a.arguments));
      cell(row, a.rule + (a.reason ? ": " + a.reason : ""));
      cell(row, a.approvers.length + "/" + a.quorum);
      cell(row, a.expires);
      const td = cell(row, "");
      td.appendChild(button("Approve", () => decide(a.id, "approve")));
      td.appendChild(button("Deny", () => decide(a.id, "deny")));
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

function bundleText(digest, sequence) {
  return digest ? String(digest).slice(0, 19) + " (" + sequence + ")" : "";
}

async function refreshFleet() {
  try {
    const { status, body } = await api("fleet", { accept: [404] });
    // Without a fleet database, or with no gateway following a channel, there is nothing to show.
    $("fleet-section").hidden = status === 404 || body.gateways.length === 0;
    if ($("fleet-section").hidden) {
      return;
    }
    const tbody = $("fleet");
    tbody.replaceChildren();
    for (const g of body.gateways) {
      const row = document.createElement("tr");
      row.dataset.instance = g.instance;
      cell(row, g.channel);
      cell(row, g.instance);
      cell(row, g.host);
      cell(row, g.version);
      cell(row, g.state, g.state === "in-sync" ? "" : "drift");
      cell(row, bundleText(g.digest, g.sequence));
      cell(row, g.desired ? bundleText(g.desired.digest, g.desired.sequence) : "none published");
      cell(row, g.last_error);
      cell(row, g.seen);
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

async function refreshBreakGlass() {
  try {
    const { status, body } = await api("breakglass", { accept: [404] });
    $("breakglass-section").hidden = status === 404;
    if (status === 404) {
      return;
    }
    const tbody = $("breakglass");
    tbody.replaceChildren();
    for (const w of body.windows) {
      const row = document.createElement("tr");
      cell(row, w.id);
      cell(row, w.principal);
      cell(row, w.opened_by);
      cell(row, w.reason);
      cell(row, w.expires);
      const td = cell(row, "");
      td.appendChild(button("Close", () => breakGlass("breakglass/" + encodeURIComponent(w.id)
        + "/close", {})));
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

// ---- API keys -------------------------------------------------------------------------------

// A secret lives only in the one input that shows it, until Done, sign-out or the next secret.
function showSecret(title, secret) {
  $("key-secret-title").textContent = title;
  $("key-secret-value").value = secret;
  $("key-secret").hidden = false;
  $("key-secret-value").select();
}

function hideSecret() {
  $("key-secret-value").value = "";
  $("key-secret").hidden = true;
}

async function createKey() {
  const principal = $("key-principal").value.trim();
  if (!principal) {
    say("Name the principal the key authenticates as.", true);
    return;
  }
  const body = {
    principal,
    roles: $("key-roles").value.split(",").map((r) => r.trim()).filter((r) => r),
  };
  const name = $("key-name").value.trim();
  const expires = $("key-expires").value.trim();
  if (name) {
    body.name = name;
  }
  if (expires) {
    body.expires = expires;
  }
  try {
    const { body: k } = await api("keys", { method: "POST", body });
    showSecret("New key " + k.id + " for " + k.principal + ".", k.secret);
    say("Created key " + k.id);
    $("key-principal").value = "";
    $("key-name").value = "";
    $("key-expires").value = "";
  } catch (e) {
    say(e.message, true);
  }
  await refreshKeys();
}

async function rotateKey(key) {
  if (!window.confirm("Rotate key " + key.id + " of " + key.principal
      + "? It stops working now; the new key replaces it.")) {
    return;
  }
  try {
    const { body: k } = await api("keys/" + encodeURIComponent(key.id) + "/rotate",
      { method: "POST", body: {} });
    showSecret("Key " + k.id + " replaces " + k.replaces + " for " + k.principal + ".", k.secret);
    say("Rotated key " + key.id + " into " + k.id);
  } catch (e) {
    say(e.message, true);
  }
  await refreshKeys();
}

async function revokeKey(key) {
  if (!window.confirm("Revoke key " + key.id + " of " + key.principal + "? It stops working now.")) {
    return;
  }
  try {
    await api("keys/" + encodeURIComponent(key.id), { method: "DELETE" });
    say("Revoked key " + key.id);
  } catch (e) {
    say(e.message, true);
  }
  await refreshKeys();
}

async function refreshKeys() {
  try {
    // Without a key store (no database) the route is not there: the section hides.
    const { status, body } = await api("keys", { accept: [404] });
    $("keys-section").hidden = status === 404;
    if (status === 404) {
      return;
    }
    const tbody = $("keys");
    tbody.replaceChildren();
    for (const k of body.keys) {
      const row = document.createElement("tr");
      row.dataset.id = k.id;
      cell(row, k.id);
      cell(row, k.principal);
      cell(row, k.roles.join(", "));
      cell(row, k.name);
      cell(row, k.status, k.status);
      cell(row, k.created);
      cell(row, k.expires || "never");
      cell(row, k.last_used || "");
      const td = cell(row, "");
      if (k.status === "active") {
        td.appendChild(button("Rotate", () => rotateKey(k)));
        td.appendChild(button("Revoke", () => revokeKey(k)));
      }
      tbody.appendChild(row);
    }
  } catch (e) {
    say(e.message, true);
  }
}

async function breakGlass(path, fields) {
  const by = $("bg-by").value.trim();
  if (!by) {
    say("Say who you are, in 'As'.", true);
    return;
  }
  try {
    const { body: w } = await api(path, { method: "POST", body: { ...fields, by } });
    say("Break-glass window " + w.id + " for " + w.principal + ": " + w.status
      + (w.status === "open" ? " until " + w.expires : ""));
  } catch (e) {
    say(e.message, true);
  }
  await refreshBreakGlass();
}

async function reload() {
  try {
    const { status, body } = await api("reload", { method: "POST", accept: [422] });
    if (status === 200) {
      say(body.revision === body.previous ? "Config unchanged (" + body.revision + ")"
        : "Reloaded: revision " + body.revision);
    } else {
      say(body.error + ": " + body.problems.map((p) => p.text).join("; "), true);
    }
  } catch (e) {
    say(e.message, true);
  }
  await refreshStatus();
}

function show(signedIn) {
  $("login").hidden = signedIn;
  $("console").hidden = !signedIn;
  $("logout").hidden = !signedIn;
}

async function start() {
  show(true);
  say("");
  await refreshStatus();
  await refreshTools();
  await refreshApprovals();
  await refreshFleet();
  await refreshBreakGlass();
  await refreshKeys();
  await refreshAudit();
}

let timer = null;

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("click", () => {
    const value = $("token").value.trim();
    if (!value) {
      say("Paste the admin token first.", true);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    hideSecret();
    show(false);
  });
  $("reload").addEventListener("click", reload);
  $("audit-refresh").addEventListener("click", refreshAudit);
  $("ap-refresh").addEventListener("click", refreshApprovals);
  $("bg-refresh").addEventListener("click", refreshBreakGlass);
  $("bg-open").addEventListener("click", () => {
    const fields = { principal: $("bg-principal").value.trim(), reason: $("bg-reason").value.trim() };
    const ttl = $("bg-ttl").value.trim();
    if (ttl) {
      fields.ttl = ttl;
    }
    breakGlass("breakglass", fields);
  });
  $("review-approve").addEventListener("click", () => decidePin("approve"));
  $("review-reject").addEventListener("click", () => decidePin("reject"));
  $("key-create").addEventListener("click", createKey);
  $("key-secret-done").addEventListener("click", hideSecret);
  $("toggle-all").addEventListener("click", () =>
    change(killSwitch.all === null ? "disable" : "enable", "all"));
  $("ks-tool-disable").addEventListener("click", () => {
    const glob = $("ks-tool").value.trim();
    if (glob) {
      change("disable", "tool", glob);
    }
  });
  if (token()) {
    start();
  } else {
    show(false);
  }
  timer = setInterval(() => {
    if (token()) {
      refreshStatus();
      refreshTools();
      refreshApprovals();
      refreshFleet();
      refreshBreakGlass();
    }
  }, 5000);
});
