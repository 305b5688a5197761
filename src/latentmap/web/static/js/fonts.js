// The typeface clustering page: characters, algorithms, cluster tiles with draggable
// fractions, live dataset sizes, save.
import { getJSON, postJSON, showError, textNode } from "./api.js";

const el = (id) => document.getElementById(id);
const PX_PER_PERCENT = 2;
const state = { info: null, chars: new Set(), result: null, percents: [], display: null };

// ------------------------------------------------------------------ selection arithmetic
// The same rules as latentmap/typefaces.py (take_count, select, dataset_sizes).

export function takeCount(size, percent) {
  return percent <= 0 ? 0 : Math.max(1, Math.floor((percent / 100) * size + 0.5));
}

function chosenTypefaces() {
  const chosen = [];
  state.result.clusters.forEach((cluster, k) => {
    const members = cluster.members;
    const n = takeCount(members.length, state.percents[k]);
    for (let j = 0; j < n; j++) chosen.push(members[members.length - 1 - j]); // farthest from the centre first
  });
  return chosen;
}

function sizes() {
  if (!state.result) return { typefaces: 0, "DS-S": 0, "DS-G": 0, "DS-A": 0 };
  const chosen = chosenTypefaces();
  const { good, all } = state.info.glyph_counts;
  let g = 0, a = 0;
  for (const f of chosen) { g += good[f]; a += all[f]; }
  return { typefaces: chosen.length, "DS-S": chosen.length * state.result.chars.length, "DS-G": g, "DS-A": a };
}

function showSizes() {
  const s = sizes();
  el("size-typefaces").textContent = s.typefaces.toLocaleString();
  el("size-s").textContent = s["DS-S"].toLocaleString();
  el("size-g").textContent = s["DS-G"].toLocaleString();
  el("size-a").textContent = s["DS-A"].toLocaleString();
  state.lastSizesAt = performance.now();
}

// ------------------------------------------------------------------ characters

function renderChars() {
  const box = el("chars");
  box.replaceChildren();
  for (const c of state.info.chars) {
    const button = document.createElement("button");
    button.textContent = c;
    button.dataset.char = c;
    button.className = state.chars.has(c) ? "active" : "";
    button.addEventListener("click", () => {
      if (state.chars.has(c)) state.chars.delete(c); else state.chars.add(c);
      renderChars();
    });
    box.append(button);
  }
  const display = el("display-char");
  const options = state.info.chars.filter((c) => state.chars.has(c));
  const keep = options.includes(state.display) ? state.display : options[0] ?? null;
  display.replaceChildren(...options.map((c) => new Option(c, c)));
  if (keep !== null) display.value = keep;
  if (keep !== state.display) { state.display = keep; if (state.result) renderTiles(); }
}

function preset(name) {
  const { chars, good } = state.info;
  state.chars = new Set(name === "all" ? chars : name === "good" ? good : []);
  renderChars();
}

// ------------------------------------------------------------------ clustering

function selectedAlgorithm() {
  return document.querySelector("input[name=algorithm]:checked").value;
}

function showParams() {
  const algorithm = selectedAlgorithm();
  for (const label of document.querySelectorAll(".params label[data-for]")) {
    label.hidden = !label.dataset.for.split(" ").includes(algorithm);
  }
}

async function runClustering() {
  const chars = state.info.chars.filter((c) => state.chars.has(c));
  const body = {
    chars, algorithm: selectedAlgorithm(), n_clusters: Number(el("n-clusters").value), metric: el("metric").value,
    n_neighbors: Number(el("n-neighbors").value), eps: Number(el("eps").value),
    min_samples: Number(el("min-samples").value), pca_dims: Number(el("pca-dims").value),
    features: el("features").value,
  };
  el("summary").textContent = "clustering…";
  el("cluster").disabled = true;
  try {
    const result = await postJSON("/api/cluster", body);
    state.result = result;
    state.percents = result.clusters.map(() => 0);
    if (!result.chars.includes(state.display)) state.display = result.chars[0];
    showSummary(result.summary);
    renderTiles();
    showSizes();
  } catch (error) {
    showError(el("summary"), error.message);
  } finally {
    el("cluster").disabled = false;
  }
}

function showSummary(s) {
  const lines = [
    `${s.clusters} clusters of ${s.typefaces.toLocaleString()} typefaces in ${s.seconds.toFixed(2)} s`,
    `sizes: ${s.sizes.slice(0, 12).join(", ")}${s.sizes.length > 12 ? ", …" : ""}`,
  ];
  if (s.noise) lines.push(`noise: ${s.noise} typefaces`);
  if (s.missing) lines.push(`${s.missing} typefaces lack a selected character and are left out`);
  if (s.eps_relative !== undefined) {
    lines.push(`eps chosen: ${s.eps.toFixed(3)} (${(100 * s.eps_relative).toFixed(0)}% of the searched range ` +
      `${s.eps_range[0].toFixed(2)}–${s.eps_range[1].toFixed(2)})`);
  }
  el("summary").replaceChildren(...lines.map((l) => textNode("div", l)));
  const canvas = el("sweep");
  canvas.hidden = !s.sweep;
  if (s.sweep) plotSweep(canvas, s.sweep, s.eps);
}

function plotSweep(canvas, { eps, clusters }, chosen) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 22;
  ctx.clearRect(0, 0, w, h);
  const x = (v) => pad + ((v - eps[0]) / (eps[eps.length - 1] - eps[0] || 1)) * (w - 2 * pad);
  const top = Math.max(...clusters, 1);
  const y = (v) => h - pad - (v / top) * (h - 2 * pad);
  ctx.strokeStyle = "#555"; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
  ctx.strokeStyle = "#4ea1ff"; ctx.beginPath();
  eps.forEach((e, i) => (i ? ctx.lineTo(x(e), y(clusters[i])) : ctx.moveTo(x(e), y(clusters[i]))));
  ctx.stroke();
  ctx.strokeStyle = "#ff5a5a"; ctx.beginPath(); ctx.moveTo(x(chosen), pad); ctx.lineTo(x(chosen), h - pad); ctx.stroke();
  ctx.fillStyle = "#9aa0aa"; ctx.font = "11px system-ui";
  ctx.fillText("clusters vs eps", pad, 14); ctx.fillText(String(top), 2, pad + 8);
}

// ------------------------------------------------------------------ tiles

function renderTiles() {
  const box = el("tiles");
  box.replaceChildren();
  state.result.clusters.forEach((cluster, k) => {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.cluster = String(k);
    tile.innerHTML = `<div class="head"><span>cluster ${k + 1} · ${cluster.members.length} typefaces</span>` +
      `<span class="pct"></span></div><div class="bar"></div><div class="body"></div>`;
    const img = document.createElement("img");
    img.alt = `cluster ${k + 1}`;
    img.draggable = false;
    img.src = `/api/results/${state.result.result}/tile/${k}.png?char=${encodeURIComponent(state.display)}&columns=10`;
    tile.querySelector(".body").append(img);
    box.append(tile);
    dragFraction(tile, k);
    showPercent(k);
  });
}

function showPercent(k) {
  const tile = el("tiles").children[k];
  const p = state.percents[k];
  tile.classList.toggle("selected", p > 0);
  tile.querySelector(".pct").textContent = p > 0 ? `${p}%` : "";
  tile.querySelector(".bar").style.width = `${p}%`;
}

function setPercent(k, p) {
  state.percents[k] = Math.max(0, Math.min(100, Math.round(p)));
  showPercent(k);
  showSizes();
}

function dragFraction(tile, k) {
  const head = tile.querySelector(".head"), body = tile.querySelector(".body");
  for (const handle of [head, body.querySelector("img")]) {
    let start = null;
    handle.addEventListener("pointerdown", (e) => {
      start = { y: e.clientY, percent: state.percents[k], moved: false };
      handle.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    handle.addEventListener("pointermove", (e) => {
      if (!start) return;
      const dy = start.y - e.clientY; // up = more
      if (Math.abs(dy) > 2) start.moved = true;
      if (start.moved) setPercent(k, start.percent + dy / PX_PER_PERCENT);
    });
    handle.addEventListener("pointerup", () => {
      if (start && !start.moved) setPercent(k, state.percents[k] > 0 ? 0 : 100); // a click toggles
      start = null;
    });
  }
}

// ------------------------------------------------------------------ save

async function save() {
  const status = el("save-status");
  if (!state.result) { showError(status, "cluster first"); return; }
  status.textContent = "saving…";
  try {
    const answer = await postJSON("/api/save", {
      result: state.result.result, fractions: state.percents.map((p) => p / 100), path: el("save-path").value,
      overwrite: el("save-overwrite").checked,
    });
    status.replaceChildren("saved ", textNode("b", answer.font_set), ` (${answer.typefaces} typefaces) and ${answer.font_chars}`);
    state.saved = answer;
  } catch (error) {
    showError(status, error.message);
  }
}

// ------------------------------------------------------------------ wiring

async function start() {
  state.info = await getJSON("/api/info");
  el("meta").textContent = `${state.info.dataset} · ${state.info.typefaces.toLocaleString()} typefaces · ` +
    `saving under ${state.info.out_dir}`;
  state.chars = new Set(["A", "G", "a", "g"].filter((c) => state.info.chars.includes(c)));
  if (!state.chars.size) state.chars = new Set(state.info.chars.slice(0, 4));
  renderChars();
  showParams();
  el("features-choice").hidden = !state.info.codes; // --codes RUN: cluster by a typeface run's codes
  if (state.info.codes) el("features-choice").title = `learned codes of ${state.info.codes}`;
}

for (const radio of document.querySelectorAll("input[name=algorithm]")) radio.addEventListener("change", showParams);
for (const button of document.querySelectorAll("[data-preset]")) button.addEventListener("click", () => preset(button.dataset.preset));
el("n-neighbors").addEventListener("input", (e) => { el("n-neighbors-value").textContent = e.target.value; });
el("cluster").addEventListener("click", runClustering);
el("save").addEventListener("click", save);
el("display-char").addEventListener("change", (e) => { state.display = e.target.value; if (state.result) renderTiles(); });

window.fontsApp = { state, sizes, ready: start() };
