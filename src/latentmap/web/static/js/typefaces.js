// The explorer's typeface mode: one point per typeface of a typeface run. Hovering a point
// sets the text in that typeface (decoded from its code); hovering empty space sets it in the
// typeface that map position decodes to. Experiments: interpolation between two typefaces
// (whole-text strips), attribute vectors on typeface codes, new typefaces from a sampler.
import { getJSON, latestOnly, loadImage, pageApi, postJSON, showError } from "./api.js";
import { css, packed, palette } from "./colors.js";
import { renderGrid } from "./grids.js";
import { MapView } from "./mapview.js";
import { loadPoints, screenOf, spreadAxes } from "./spaces.js";

const HELP = {
  interpolate: "click typeface A, shift+click typeface B: the text from A to B in 7 steps",
  attribute: "click typefaces (up to 10): each set as it is, then moved along the attribute vector",
  samples: "typefaces no font has: codes drawn from the sampler, the text decoded from each",
};
const TITLES = { interpolate: "Interpolation", attribute: "Attribute vector", samples: "New typefaces" };
const MAX_PICKS = 10;

const el = (id) => document.getElementById(id);
const state = { space: 0, info: null, points: null, experiment: "interpolate", a: null, b: null, picks: [],
  hovered: -1, seed: 0, request: 0, hoverRequest: 0, stretch: { x: 1, y: 1 } };
const map = new MapView(el("map"), (k) => loadImage(`/api/spaces/${state.space}/atlas/${k}.png?v=${state.info.version}`));
const api = (route) => `/api/spaces/${state.space}/typeface/${route}`;

async function loadSpace(k) {
  state.space = k;
  const { info, points } = await loadPoints(pageApi, k);
  const n = info.count;
  const table = palette(info.label_names.length).map(packed);
  state.info = info;
  state.stretch = spreadAxes(points);
  state.points = { ...points, colors: Uint32Array.from(points.labels, (l) => table[l]) };
  map.setPoints(state.points);
  el("text").value = el("text").value || info.text;
  el("meta").textContent = `${info.run} · ${info.dataset} · ${info.method} · ${info.kind} run (${info.d_latent} dims) · ` +
    `${n.toLocaleString()} ${info.split} typefaces, thumbnails show '${info.thumbnail}' · judge: ${info.judge}` +
    stretchNote(state.stretch);
  el("legend").replaceChildren(...palette(info.label_names.length).map((rgb, i) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = css(rgb);
    item.append(swatch, info.label_names[i]);
    return item;
  }));
  el("sampler").replaceChildren(...info.samplers.map((s) => new Option(s, s)));
  el("sampler").value = info.samplers.includes("gmm") ? "gmm" : info.samplers[0];
  const attributes = await getJSON(api("attributes")).catch(() => []);
  el("attribute-name").replaceChildren(...attributes.map((a) => new Option(`${a.name} (${a.pairs})`, a.name)));
  el("experiment").querySelector('[value="attribute"]').disabled = !attributes.length;
  showExperiment();
}

function stretchNote({ x, y }) {
  if (x === 1 && y === 1) return "";
  const [axis, factor] = y > 1 ? ["vertical", y] : ["horizontal", x];
  return ` · ${axis} axis stretched ×${factor.toFixed(0)} to spread the points (the map's axes differ that much)`;
}

function typefaceName(index) { return state.info.typefaces[state.points.rows[index]]; }

function showExperiment() {
  el("experiment-title").textContent = TITLES[state.experiment];
  el("experiment-help").textContent = HELP[state.experiment];
  el("attribute-controls").style.display = state.experiment === "attribute" ? "" : "none";
  el("samples-controls").style.display = state.experiment === "samples" ? "" : "none";
  const markers = state.experiment === "interpolate"
    ? [state.a, state.b].map((index, k) => index === null ? null : { index, style: { color: k ? "#c77dff" : "#ffb020", shape: "diamond" } })
    : state.experiment === "attribute" ? state.picks.map((index) => ({ index, style: { color: "#3ddc84", shape: "circle" } })) : [];
  map.setMarkers(markers.filter(Boolean));
  requestGrid();
}

async function show(container, request, body, title) {
  const answer = await postJSON(request, body);
  container.replaceChildren();
  renderGrid(container, { grid: answer, title, headings: [...answer.text], originals: [], rowLabels: answer.labels },
    state.info.chars);
  return answer;
}

async function requestGrid() {
  const ticket = ++state.request;
  const text = el("text").value;
  let route = null, body = null, title = "";
  if (state.experiment === "interpolate" && state.a !== null && state.b !== null) {
    [route, body, title] = ["interpolate", { a: state.a, b: state.b, text }, `${typefaceName(state.a)} → ${typefaceName(state.b)}`];
  } else if (state.experiment === "attribute" && state.picks.length && el("attribute-name").value) {
    const strength = Number(el("strength").value);
    [route, body, title] = ["attribute", { points: state.picks, name: el("attribute-name").value, strength, text }, ""];
  } else if (state.experiment === "samples") {
    [route, body, title] = ["samples", { sampler: el("sampler").value, n: 6, seed: state.seed, text }, `seed ${state.seed}`];
  }
  if (!route) { el("grid").replaceChildren(); el("status").textContent = ""; return; } // the help says what to do
  el("status").textContent = "…";
  try {
    const holder = document.createElement("div");
    await show(holder, api(route), body, title);
    if (ticket !== state.request) return;
    el("grid").replaceChildren(...holder.childNodes);
    el("status").textContent = "";
  } catch (error) {
    if (ticket === state.request) showError(el("status"), error.message);
  }
}

/** Hover: the text set in the typeface under the cursor, or in the one that map position decodes to. */
const hover = latestOnly((request, label) => {
  const holder = document.createElement("div");
  return show(holder, api("text"), { ...request, text: el("text").value }, "")
    .then(() => { el("hover-grid").replaceChildren(...holder.childNodes); el("hover-text").textContent = label; })
    .catch((error) => { el("hover-text").textContent = error.message; });
});

map.addEventListener("hover", (e) => {
  state.hovered = e.detail.index;
  hover({ points: [e.detail.index] }, `${typefaceName(e.detail.index)} (#${e.detail.index})`);
});
map.addEventListener("hoverempty", (e) => {
  state.hovered = -1;
  const [x, y] = [e.detail.x / state.stretch.x, e.detail.y / state.stretch.y]; // back to map coordinates
  hover({ xy: [[x, y]] }, `decoded at (${x.toFixed(2)}, ${y.toFixed(2)})`);
});
map.addEventListener("pick", (e) => {
  const { index, shift } = e.detail;
  if (state.experiment === "attribute") {
    state.picks = state.picks.includes(index) ? state.picks.filter((i) => i !== index) : [...state.picks, index].slice(-MAX_PICKS);
  } else if (shift) state.b = index;
  else state.a = index;
  if (state.experiment === "samples") state.experiment = el("experiment").value = "interpolate";
  showExperiment();
});
el("experiment").addEventListener("change", () => { state.experiment = el("experiment").value; showExperiment(); });
el("text").addEventListener("change", () => requestGrid());
el("attribute-name").addEventListener("change", () => requestGrid());
el("strength").addEventListener("input", () => { el("strength-value").textContent = Number(el("strength").value).toFixed(1); });
el("strength").addEventListener("change", () => requestGrid());
el("sampler").addEventListener("change", () => requestGrid());
el("resample").addEventListener("click", () => { state.seed++; requestGrid(); });

async function start() {
  const spaces = await getJSON("/api/spaces");
  spaces.forEach((s, k) => el("space").append(new Option(`${s.kind}: ${s.name}`, String(k))));
  el("space").style.display = spaces.length > 1 ? "" : "none";
  el("space").addEventListener("change", () => loadSpace(Number(el("space").value)));
  await loadSpace(0);
}

// For tests and the console: the state, the map, and where a point is on the page.
window.typefaces = {
  state, map,
  screenOf: (index) => screenOf(map, index),
  ready: start().catch((error) => { showError(el("meta"), error.message); throw error; }),
};
