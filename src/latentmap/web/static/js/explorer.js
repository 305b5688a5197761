// The latent explorer page: map, hover, filters, and the two experiments.
import { getBytes, getJSON, loadImage, postJSON } from "./api.js";
import { css, packed, palette } from "./colors.js";
import { renderGrid } from "./grids.js";
import { MapView } from "./mapview.js";

const MAX_SOURCES = 10;
const MAX_C = 7;
const INTERPOLATION_HEADINGS = ["src", "1/8", "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "tgt", "+10%", "+50%"];
const MARKERS = {
  source: { color: "#3ddc84", shape: "circle" },
  target: { color: "#ff5a5a", shape: "square" },
  c: { color: "#35d0ff", shape: "circle" },
  a: { color: "#ffb020", shape: "diamond" },
  b: { color: "#c77dff", shape: "diamond" },
};

const el = (id) => document.getElementById(id);
const state = {
  space: 0, info: null, points: null, experiment: "interpolation", mode: "linear",
  sources: [], target: null, cs: [], a: null, b: null, hovered: -1, filter: null, request: 0,
};
const map = new MapView(el("map"), (k) => loadImage(`/api/spaces/${state.space}/atlas/${k}.png`));

// ------------------------------------------------------------------ loading

async function loadSpace(k) {
  state.space = k;
  const info = await getJSON(`/api/spaces/${k}/info`);
  const buffer = await getBytes(`/api/spaces/${k}/points`);
  const n = info.count, layout = info.points_layout;
  const xy = new Float32Array(buffer, layout.xy, 2 * n);
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = xy[2 * i]; y[i] = xy[2 * i + 1]; }
  state.info = info;
  state.points = {
    x, y, count: n, atlas: info.atlas,
    labels: new Uint16Array(buffer, layout.labels, n),
    typefaces: new Int32Array(buffer, layout.typefaces, n),
    categories: new Int16Array(buffer, layout.categories, n),
  };
  el("meta").textContent = `${info.run} · ${info.dataset} · ${info.method} · ${info.kind} (${info.d_latent} dims) · ` +
    `${n.toLocaleString()} ${info.split} images`;
  const colourBy = el("colour-by");
  colourBy.replaceChildren(new Option("class", "class"));
  if (info.categories.length) colourBy.append(new Option("typeface category", "category"));
  state.points.colors = colours("class");
  map.setPoints(state.points);
  clearExperiment();
  clearFilter();
  showLegend("class");
}

function colours(by) {
  const { labels, categories, count } = state.points;
  const ids = by === "category" ? categories : labels;
  const names = by === "category" ? state.info.categories : state.info.label_names;
  const table = palette(names.length).map(packed);
  const grey = packed([110, 110, 110]);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = ids[i] >= 0 ? table[ids[i]] : grey;
  return out;
}

function showLegend(by) {
  const names = by === "category" ? state.info.categories : state.info.label_names;
  const legend = el("legend");
  legend.replaceChildren();
  palette(names.length).forEach((rgb, i) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = css(rgb);
    item.append(swatch, names[i]);
    legend.append(item);
  });
}

// ------------------------------------------------------------------ experiments

function clearExperiment() {
  Object.assign(state, { sources: [], target: null, cs: [], a: null, b: null });
  el("grid").replaceChildren();
  updateExperiment();
}

function pick(index, shift) {
  if (state.experiment === "interpolation") {
    if (state.target === null && !shift && state.sources.length < MAX_SOURCES) {
      if (!state.sources.includes(index)) state.sources.push(index);
    } else if (state.sources.length) {
      state.target = index;
    } else {
      state.sources.push(index);
    }
  } else if (state.a === null && !shift && state.cs.length < MAX_C) {
    if (!state.cs.includes(index)) state.cs.push(index);
  } else if (!state.cs.length) {
    state.cs.push(index);
  } else if (state.a === null) {
    state.a = index;
  } else if (state.b === null && !shift) {
    state.b = index;
  } else if (shift) {
    state.a = index;
  } else {
    state.b = index;
  }
  updateExperiment();
  requestGrid();
}

function updateExperiment() {
  const interp = state.experiment === "interpolation";
  el("experiment-title").textContent = interp ? "Interpolation" : "Analogy";
  el("experiment-help").innerHTML = interp
    ? `Click up to ${MAX_SOURCES} <b style="color:${MARKERS.source.color}">sources</b>, then shift-click (or right-click) ` +
      `a <b style="color:${MARKERS.target.color}">target</b>; later clicks change the target.`
    : `Click up to ${MAX_C} <b style="color:${MARKERS.c.color}">C</b> images, then shift-click ` +
      `<b style="color:${MARKERS.a.color}">A</b> and click <b style="color:${MARKERS.b.color}">B</b>: ` +
      `D = C + B − A. Later clicks change B, shift-clicks change A.`;
  el("experiment-controls").style.display = interp ? "" : "none";
  const markers = [];
  const mark = (index, kind, label) => index !== null && markers.push({ index, label, ...MARKERS[kind] });
  if (interp) {
    state.sources.forEach((i, k) => mark(i, "source", `S${k + 1}`));
    mark(state.target, "target", "T");
    el("status").textContent = `${state.sources.length} source(s)` + (state.target !== null ? `, target #${state.target}` : "");
  } else {
    state.cs.forEach((i, k) => mark(i, "c", `C${k + 1}`));
    mark(state.a, "a", "A");
    mark(state.b, "b", "B");
    el("status").textContent = `${state.cs.length} C image(s)` + (state.a !== null ? `, A #${state.a}` : "") +
      (state.b !== null ? `, B #${state.b}` : "");
  }
  map.setMarkers(markers);
}

async function requestGrid() {
  const interp = state.experiment === "interpolation";
  const ready = interp ? state.sources.length && state.target !== null : state.cs.length && state.a !== null && state.b !== null;
  if (!ready) return;
  const ticket = ++state.request;
  const base = `/api/spaces/${state.space}`;
  try {
    const grid = interp
      ? await postJSON(`${base}/interpolate`, { sources: state.sources, target: state.target, mode: state.mode })
      : await postJSON(`${base}/analogy`, { c: state.cs, a: state.a, b: state.b });
    if (ticket !== state.request) return; // a newer request superseded this one
    renderGrid(el("grid"), grid, interp ? INTERPOLATION_HEADINGS : ["C", "D"], interp ? [0, 8] : [0]);
    el("grid").dataset.experiment = state.experiment;
  } catch (error) {
    el("status").innerHTML = `<span class="error">${error.message}</span>`;
  }
}

// ------------------------------------------------------------------ hover and filters

function showHover(index) {
  state.hovered = index;
  const text = el("hover-text");
  const canvas = el("hover-image");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, 28, 28);
  if (index < 0) { text.textContent = "—"; return; }
  const { labels, typefaces } = state.points;
  const face = typefaces[index] >= 0 ? state.info.typefaces[typefaces[index]] : "";
  text.innerHTML = `<div><span class="tag">${state.info.label_names[labels[index]]}</span> #${index}</div>` +
    (face ? `<div>${face}</div>` : "");
  // The map's atlas cache serves the hover too: one request per atlas, whoever asks first.
  map.loadAtlas(map.atlasOf(index))
    .then(() => state.hovered === index && map.drawThumb(ctx, index, 0, 0, 28))
    .catch(() => { text.append(" (image unavailable)"); });
}

function filterBy(kind) {
  const i = state.hovered;
  if (i < 0) return;
  const { labels, typefaces, count } = state.points;
  if (kind === "typeface" && typefaces[i] < 0) return;
  const mask = new Uint8Array(count);
  const values = kind === "typeface" ? typefaces : labels, value = values[i];
  for (let j = 0; j < count; j++) mask[j] = values[j] === value ? 1 : 0;
  state.filter = { kind, value };
  map.setFilter(mask);
}

function clearFilter() {
  state.filter = null;
  map.setFilter(null);
}

// ------------------------------------------------------------------ wiring

map.addEventListener("pick", (e) => pick(e.detail.index, e.detail.shift));
map.addEventListener("hover", (e) => showHover(e.detail.index));
el("toggle-experiment").addEventListener("click", () => {
  state.experiment = state.experiment === "interpolation" ? "analogy" : "interpolation";
  clearExperiment();
});
el("colour-by").addEventListener("change", (e) => {
  map.setColors(state.points.colors = colours(e.target.value));
  showLegend(e.target.value);
});
el("space").addEventListener("change", (e) => loadSpace(Number(e.target.value)));
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === " ") { e.preventDefault(); clearExperiment(); }
  else if (e.key === "f" || e.key === "F") filterBy("typeface");
  else if (e.key === "c" || e.key === "C") filterBy("class");
  else if (e.key === "Escape") clearFilter();
});

const modeSelect = document.createElement("select");
modeSelect.id = "interpolation-mode";
modeSelect.append(new Option("linear interpolation", "linear"), new Option("spherical (slerp)", "slerp"));
modeSelect.addEventListener("change", () => { state.mode = modeSelect.value; requestGrid(); });
el("experiment-controls").append(modeSelect);

async function start() {
  const spaces = await getJSON("/api/spaces");
  spaces.forEach((s, k) => el("space").append(new Option(`${s.kind}: ${s.name}`, String(k))));
  el("space").style.display = spaces.length > 1 ? "" : "none";
  await loadSpace(0);
}

// For tests and the console: the state, the map, and where a point is on the page.
window.explorer = {
  state, map,
  screenOf(index) {
    const [sx, sy] = map.toScreen(index);
    const rect = map.canvas.getBoundingClientRect();
    return [rect.left + sx, rect.top + sy];
  },
  ready: start().catch((error) => { el("meta").innerHTML = `<span class="error">${error.message}</span>`; throw error; }),
};
