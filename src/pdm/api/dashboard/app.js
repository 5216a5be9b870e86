// pdm dashboard: plain JS, no build step. Hash routes: #/ fleet, #/assets/ID, #/alerts/ID, #/rollouts[/ID].
"use strict";
const KEY = "pdm-api-key";
const view = document.getElementById("view");
let live = null; // AbortController of the open score stream

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v, d = 3) => (typeof v === "number" ? v.toFixed(d) : esc(v ?? "–"));
const when = (t) => (t ? new Date(t).toLocaleString() : "–");
const pill = (s) => `<span class="status status-${esc(s)}">${esc(s)}</span>`;

function headers(extra = {}) {
  const key = localStorage.getItem(KEY);
  return key ? { Authorization: `Bearer ${key}`, ...extra } : extra;
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const used = localStorage.getItem(KEY);
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401) {
    if (localStorage.getItem(KEY) === used) askForKey(); // a late answer to an older key asks nothing
    throw new Unauthorized("an API key is needed");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.message || `${response.status} ${response.statusText}`);
  return body;
}

function askForKey() {
  const form = document.getElementById("key-form");
  form.hidden = false;
  document.getElementById("key-input").focus();
}

document.getElementById("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(KEY, document.getElementById("key-input").value.trim());
  e.target.hidden = true;
  route();
});
document.getElementById("forget-key").addEventListener("click", () => { localStorage.removeItem(KEY); askForKey(); });

// Server-sent events over fetch: EventSource cannot send the key header.
async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers(), signal });
  if (!response.ok) throw new Error(`live stream: ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const chunk = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      for (const line of chunk.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

async function fleetPage() {
  const [summary, assets] = await Promise.all([api("/v1/fleet/summary"), api("/v1/assets?limit=1000")]);
  const cards = Object.entries(summary.by_status)
    .map(([s, n]) => `<div class="card status-card" data-status="${esc(s)}"><div class="n">${n}</div>${pill(s)}</div>`).join("");
  const rows = assets.items.map((a) => `<tr class="asset-row"><td><a href="#/assets/${encodeURIComponent(a.asset_id)}">${esc(a.asset_id)}</a></td>
    <td>${esc(a.site)}</td><td>${esc(a.kind)}</td><td>${pill(a.status)}</td><td>${a.open_alerts}</td>
    <td>${fmt(a.latest_score)}</td><td>${when(a.last_reading_at)}</td></tr>`).join("");
  view.innerHTML = `<h1>Fleet</h1><p class="muted">${summary.assets} assets</p><div class="cards">${cards}</div>
    <table id="assets"><thead><tr><th>asset</th><th>site</th><th>kind</th><th>status</th><th>open alerts</th>
    <th>latest score</th><th>last reading</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function alertRows(items) {
  return items.map((a) => `<tr class="alert-row"><td><a href="#/alerts/${a.alert_id}">${esc(a.kind)} #${a.episode}</a></td>
    <td>${pill(a.state)}</td><td>${esc(a.severity)}</td><td>${fmt(a.peak_score)}</td><td>${when(a.raised_at)}</td></tr>`).join("");
}

async function assetPage(id) {
  const to = new Date(), from = new Date(to - 6 * 3600e3);
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), step: 60 });
  const [health, alerts, series] = await Promise.all([
    api(`/v1/assets/${encodeURIComponent(id)}/health`),
    api(`/v1/alerts?asset_id=${encodeURIComponent(id)}&limit=50`),
    api(`/v1/assets/${encodeURIComponent(id)}/scores?${q}`),
  ]);
  view.innerHTML = `<h1>${esc(id)} ${pill(health.status)}</h1>
    <p class="muted">${esc(health.site)} · ${esc(health.kind)} · model ${esc(health.serving_model_version)}
    · last reading ${when(health.last_reading_at)}</p>
    <h2>Score <span id="live-state" class="muted">connecting…</span></h2><canvas id="chart" width="1000" height="260"></canvas>
    <h2>Alerts</h2><table id="asset-alerts"><thead><tr><th>alert</th><th>state</th><th>severity</th><th>peak</th>
    <th>raised</th></tr></thead><tbody>${alertRows(alerts.items)}</tbody></table>`;
  const points = series.points.map((p) => ({ t: Date.parse(p.t), v: p.max, threshold: p.threshold }));
  const chart = document.getElementById("chart");
  draw(chart, points);
  live = new AbortController();
  stream(`/v1/live/assets/${encodeURIComponent(id)}/scores`, (name, s) => {
    if (name !== "score") return;
    points.push({ t: Date.parse(s.ts), v: s.score, threshold: s.threshold });
    document.getElementById("live-state").textContent = `live · ${fmt(s.score)} at ${when(s.ts)}`;
    draw(chart, points);
  }, live.signal).catch((e) => { if (e.name !== "AbortError") document.getElementById("live-state").textContent = e.message; });
}

function draw(canvas, points) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 36;
  ctx.clearRect(0, 0, W, H);
  canvas.dataset.points = points.length;
  if (!points.length) { ctx.fillStyle = "#666"; ctx.fillText("no scores yet", W / 2 - 30, H / 2); return; }
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const threshold = points[points.length - 1].threshold;
  const top = Math.max(threshold * 1.5, ...points.map((p) => p.v)) || 1;
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (W - 2 * pad), y = (v) => H - pad - (v / top) * (H - 2 * pad);
  ctx.strokeStyle = "#ccc"; ctx.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
  ctx.setLineDash([6, 4]); ctx.strokeStyle = "#c62828"; ctx.beginPath();
  ctx.moveTo(pad, y(threshold)); ctx.lineTo(W - pad, y(threshold)); ctx.stroke(); ctx.setLineDash([]);
  ctx.strokeStyle = "#1565c0"; ctx.lineWidth = 2; ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(x(p.t), y(p.v)) : ctx.moveTo(x(p.t), y(p.v))));
  ctx.stroke(); ctx.lineWidth = 1;
  ctx.fillStyle = "#333";
  ctx.fillText(`threshold ${threshold}`, W - pad - 90, y(threshold) - 4);
  ctx.fillText(new Date(t0).toLocaleTimeString(), pad, H - 10);
  ctx.fillText(new Date(t1).toLocaleTimeString(), W - pad - 60, H - 10);
}

async function alertPage(id) {
  const a = await api(`/v1/alerts/${id}`);
  view.innerHTML = `<h1>Alert ${esc(a.kind)} #${a.episode} on <a href="#/assets/${encodeURIComponent(a.asset_id)}">${esc(a.asset_id)}</a></h1>
    <p>state <span id="alert-state">${pill(a.state)}</span> · severity ${esc(a.severity)} · first score ${fmt(a.first_score)}
    · peak ${fmt(a.peak_score)} · threshold ${fmt(a.threshold)} · model ${esc(a.model_version)} · raised ${when(a.raised_at)}</p>
    <div class="actions"><input id="note" placeholder="note or resolution">
    <label><input type="checkbox" id="fault"> fault confirmed</label>
    <button id="acknowledge">Acknowledge</button><button id="resolve">Resolve</button><span id="action-result"></span></div>
    <h2>Explain</h2><div id="explain" class="muted">replaying the archive…</div>`;
  const act = (verb, body) => async () => {
    try {
      await api(`/v1/alerts/${id}/${verb}`, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ by: "dashboard", expected_version: a.version, ...body() }) });
      route();
    } catch (e) { document.getElementById("action-result").innerHTML = `<span class="error">${esc(e.message)}</span>`; }
  };
  const note = () => document.getElementById("note").value;
  document.getElementById("acknowledge").onclick = act("acknowledge", () => ({ note: note() }));
  document.getElementById("resolve").onclick = act("resolve", () => ({
    resolution: note() || "resolved from the dashboard", fault_confirmed: document.getElementById("fault").checked }));
  api(`/v1/alerts/${id}/explain`).then(explainView).catch((e) => {
    document.getElementById("explain").innerHTML = `<span class="error">${esc(e.message)}</span>`;
  });
}

function explainView(x) {
  const features = Object.entries(x.features || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmt(v, 4)}</td></tr>`).join("");
  const readings = (x.readings_window?.items || []).map((r) => `<tr><td>${when(r.ts)}</td><td>${esc(JSON.stringify(r.values))}</td></tr>`).join("");
  document.getElementById("explain").innerHTML = `<p>reproduced <span id="reproduced" class="badge badge-${x.reproduced ? "yes" : "no"}">${x.reproduced}</span>
    · model ${esc(x.model_version)} · recorded score ${fmt(x.recorded?.score, 6)} · replayed ${fmt(x.replayed?.score, 6)}
    · threshold ${fmt(x.threshold)} ${x.reason ? `· ${esc(x.reason)}` : ""}</p>
    <h3>Features of the window</h3><table><tbody>${features}</tbody></table>
    <h3>Readings ${when(x.readings_window?.from)} – ${when(x.readings_window?.to)}</h3><table><tbody>${readings}</tbody></table>`;
}

async function rolloutsPage() {
  const list = await api("/v1/rollouts?limit=100");
  const rows = list.items.map((r) => `<tr class="rollout-row"><td><a href="#/rollouts/${r.rollout_id}">${esc(r.candidate_version)}</a></td>
    <td>${esc(r.baseline_version)}</td><td>${pill(r.state)}</td><td>${esc(Object.keys(r.steps).join(", "))}</td>
    <td>${esc(r.reason ?? "")}</td><td>${when(r.started_at)}</td><td>${when(r.updated_at)}</td></tr>`).join("");
  view.innerHTML = `<h1>Rollouts</h1><table id="rollouts"><thead><tr><th>candidate</th><th>baseline</th><th>state</th>
    <th>judged steps</th><th>reason</th><th>started</th><th>last change</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="7" class="muted">no rollouts yet</td></tr>'}</tbody></table>`;
}

function stepTable(name, step) {
  const metrics = Object.entries(step.metrics || {}).map(([k, v]) => `<tr class="metric-row" data-metric="${esc(k)}">
    <td>${esc(k)}</td><td>${fmt(v, 4)}</td></tr>`).join("");
  return `<h3 class="step" data-step="${esc(name)}">${esc(name)} <span class="badge badge-${step.passed ? "yes" : "no"}">${
    step.passed ? "passed" : "failed"}</span> <span class="muted">${when(step.at)} ${esc(step.reason || "")}</span></h3>
    <table class="step-metrics" id="step-${esc(name)}"><tbody>${metrics}</tbody></table>`;
}

async function rolloutPage(id) {
  const r = await api(`/v1/rollouts/${id}`);
  const history = r.history.map((h) => `<tr><td>${when(h.at)}</td><td>${esc(h.event)}</td><td>${esc(h.actor)}</td></tr>`).join("");
  const open = !["promoted", "rejected", "rolled_back", "aborted", "timed_out"].includes(r.state);
  view.innerHTML = `<h1>Rollout of ${esc(r.candidate.model_version)} <span id="rollout-state">${pill(r.state)}</span></h1>
    <p class="muted">baseline ${esc(r.baseline.model_version)} · started ${when(r.started_at)} · deadline ${when(r.deadline)}
    · canary ${esc(r.canary_assets.join(", ") || "–")} · live ${esc(r.live_steps.join(", ") || "–")}
    · to undo ${esc(r.pending_compensations.join(", ") || "–")}${r.reason ? ` · ${esc(r.reason)}` : ""}</p>
    ${open ? '<div class="actions"><button id="abort">Abort</button><span id="action-result"></span></div>' : ""}
    <h2>Steps</h2>${["validation", "shadow", "canary"].filter((s) => r.steps[s]).map((s) => stepTable(s, r.steps[s])).join("")
      || '<p class="muted">no step judged yet</p>'}
    <h2>History</h2><table id="rollout-history"><tbody>${history}</tbody></table>`;
  if (open) {
    document.getElementById("abort").onclick = async () => {
      try {
        await api(`/v1/rollouts/${id}/abort`, { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ reason: "aborted from the dashboard", by: "dashboard" }) });
        route();
      } catch (e) { document.getElementById("action-result").innerHTML = `<span class="error">${esc(e.message)}</span>`; }
    };
  }
}

async function route() {
  if (live) { live.abort(); live = null; }
  delete view.dataset.ready;
  const [, page, id] = (location.hash || "#/").slice(1).split("/").map(decodeURIComponent);
  try {
    if (page === "assets" && id) await assetPage(id);
    else if (page === "alerts" && id) await alertPage(id);
    else if (page === "rollouts" && id) await rolloutPage(id);
    else if (page === "rollouts") await rolloutsPage();
    else await fleetPage();
    document.getElementById("key-form").hidden = true;
    view.dataset.ready = page === "rollouts" && id ? "rollout" : page || "fleet";
  } catch (e) {
    view.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
}

window.addEventListener("hashchange", route);
route();
