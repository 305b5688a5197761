// The latent explorer page: map, hover (and decode anywhere), filters, the validity layer,
// and five experiments: interpolation, analogy, typeface morph (TMNIST), attribute vectors,
// samples from the run's samplers.
// Picks are dataset rows, so they carry across maps and models of the same dataset.
// `startExplorer(root, host)` runs it in `root` (the page's document, or the notebook
// widget's shadow root); `host` says where the view is kept, who hears about picks and how
// requests travel. Every piece of state lives in that call: two explorers on one page (two
// widget views) share these modules and nothing else.
import { connect, latestOnly, showError, textNode } from "./api.js";
import { css, packed, palette } from "./colors.js";
import { gridPNG, renderGrid } from "./grids.js";
import { EXPERIMENTS } from "./experiments.js";
import { MapView } from "./mapview.js";
import { loadPoints, screenOf } from "./spaces.js";

const MARKERS = {
  source: { color: "#3ddc84", shape: "circle" },
  target: { color: "#ff5a5a", shape: "square" },
  c: { color: "#35d0ff", shape: "circle" },
  a: { color: "#ffb020", shape: "diamond" },
  b: { color: "#c77dff", shape: "diamond" },
  near: { color: "#ffffff", shape: "square" },
};

// The page keeps its view in the URL hash (reload or share it); the widget in its model.
const PAGE_HOST = {
  readView: () => new URLSearchParams(location.hash.slice(1)),
  saveView: (params) => history.replaceState(null, "", `#${params}`),
  picked: () => {},
  selected: () => {},
};
/**
 * Run the explorer in `where` (a document or a shadow root holding the page's markup) with
 * `overrides` of the page's host (readView, saveView, picked, selected; keys: the element
 * whose key presses it answers; transport: how requests travel, `fetch` by default). Returns the handle tests and the console use: the state,
 * the map, and where a point is on the page.
 */
export function startExplorer(where = document, overrides = {}) {
  const api = connect(overrides.transport);
  const { getJSON, postJSON, request, loadImage } = api;
  let root = where;
  const host = { ...PAGE_HOST, ...overrides };
  const el = (id) => root.getElementById(id);
  const state = {
    space: 0, spaces: [], info: null, points: null, experiment: "interpolation", mode: "linear",
    sources: [], target: null, cs: [], a: null, b: null, hovered: -1, filter: null, request: 0,
    compare: false, text: "Hamburgefonstiv", attribute: null, strength: 1, validity: false, rowIndex: null,
    sampler: "gmm", seed: 0, samples: null, selection: [],
  };
  let map = null;
  const controlsOf = {}; // experiment name -> its controls' element
  // What the experiment modules see of this explorer (they keep no state of their own).
  const x = { state, el, api, markers: MARKERS, compared, refresh, markNearestOnHover }; // declarations: hoisted

  // ------------------------------------------------------------------ loading

  async function loadSpace(k) {
    state.space = k;
    el("space").value = String(k);
    const { info, points } = await loadPoints(api, k);
    const n = info.count;
    state.info = info;
    state.points = points;
    state.rowIndex = new Map();
    state.points.rows.forEach((row, i) => state.rowIndex.set(row, i));
    el("meta").textContent = `${info.run} · ${info.dataset} · ${info.method} · ${info.kind} (${info.d_latent} dims) · ` +
      `${n.toLocaleString()} ${info.split} images · judge: ${info.judge}`;
    const colourBy = el("colour-by");
    colourBy.replaceChildren(new Option("class", "class"));
    if (info.categories.length) colourBy.append(new Option("typeface category", "category"));
    state.points.colors = colours("class");
    map.setPoints(state.points);
    clearFilter();
    showLegend("class");
    el("compare").parentElement.style.display = sameDatasetSpaces().length > 1 ? "" : "none";
    for (const experiment of Object.values(EXPERIMENTS)) {
      const said = experiment.onSpace ? await experiment.onSpace(x) : { available: experiment.available?.(x) ?? true };
      const option = el("experiment").querySelector(`[value="${experiment.name}"]`);
      option.disabled = !said.available;
      option.title = said.why ?? ""; // why it is off, from the server
      if (!said.available && state.experiment === experiment.name) state.experiment = "interpolation";
    }
    if (state.validity) showValidity();
    updateExperiment(); // picks are rows: they stay, and show where this map has them
    requestGrid();
  }

  function sameDatasetSpaces() {
    const here = state.spaces[state.space];
    return state.spaces.map((s, k) => ({ ...s, k })).filter((s) => s.dataset === here.dataset);
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
    requestGrid(); // samples need no picks
  }

  /** The picks in the model of every space of this dataset when comparing, this one first. */
  function compared() {
    const ids = state.compare ? sameDatasetSpaces().map((s) => s.k) : [state.space];
    return [state.space, ...ids.filter((k) => k !== state.space)];
  }

  /** Clicks pick dataset rows, as the experiment says (shift-click or right-click: the target / A). */
  function pick(index, shift) {
    EXPERIMENTS[state.experiment].pick(x, state.points.rows[index], shift);
    refresh();
  }

  function refresh() {
    updateExperiment();
    requestGrid();
  }

  function updateExperiment() {
    const e = EXPERIMENTS[state.experiment];
    el("experiment").value = e.name;
    el("experiment-title").textContent = e.title;
    el("experiment-help").innerHTML = e.help(x); // the module's own markup; numbers and colours only
    for (const [name, control] of Object.entries(controlsOf)) control.style.display = name === e.name ? "" : "none";
    const markers = [];
    const mark = (row, kind, label) => {
      const index = row === null ? undefined : state.rowIndex?.get(row);
      if (index !== undefined) markers.push({ index, label, ...MARKERS[kind] });
    };
    el("status").textContent = e.show(x, mark);
    map.setMarkers(markers);
    saveHash();
  }

  async function requestGrid() {
    const e = EXPERIMENTS[state.experiment];
    if (!e.ready(x)) return;
    const ticket = ++state.request;
    try {
      const sections = await e.sections(x);
      if (ticket !== state.request) return; // a newer request superseded this one
      const container = el("grid");
      container.replaceChildren();
      for (const section of sections) renderGrid(container, section, state.info.label_names);
      e.shown?.(x, container);
      container.dataset.experiment = e.name;
    } catch (error) {
      showError(el("status"), error.message);
    }
  }

  // ------------------------------------------------------------------ samples

  /** Hovering sample i marks its nearest images on the map and names them in the hover panel. */
  function markNearestOnHover(container, grid) {
    container.querySelectorAll("canvas.cell").forEach((canvas, i) => {
      const cell = canvas.parentElement.classList.contains("judged") ? canvas.parentElement : canvas;
      cell.addEventListener("mouseenter", () => {
        const markers = [];
        grid.nearest[i].forEach((row, k) => {
          const index = state.rowIndex.get(row);
          if (index !== undefined) markers.push({ index, label: `N${k + 1}`, ...MARKERS.near });
        });
        map.setMarkers(markers);
        state.hovered = -1;
        el("hover-image").getContext("2d").drawImage(canvas, 0, 0); // the sample itself, large
        state.nearestShown = { sample: i, rows: grid.nearest[i] };
        el("hover-text").replaceChildren(textNode("div", `sample ${i + 1}: nearest images`), ...grid.nearest[i]
          .map((row, k) => textNode("div", `N${k + 1} row #${row} · distance ${grid.distances[i][k].toFixed(2)}`)));
      });
      cell.addEventListener("mouseleave", () => { map.setMarkers([]); state.nearestShown = null; });
    });
  }

  // ------------------------------------------------------------------ hover, decode anywhere, filters

  function showHover(index) {
    state.hovered = index;
    const text = el("hover-text");
    const canvas = el("hover-image");
    const ctx = canvas.getContext("2d");
    if (index < 0) return; // empty space: decodeAt() draws what lies there
    ctx.clearRect(0, 0, 28, 28);
    const { labels, typefaces } = state.points;
    const face = typefaces[index] >= 0 ? state.info.typefaces[typefaces[index]] : "";
    const line = document.createElement("div");
    line.append(textNode("span", state.info.label_names[labels[index]], "tag"), ` #${index}`);
    text.replaceChildren(line, ...(face ? [textNode("div", face)] : []));
    // The map's atlas cache serves the hover too: one request per atlas, whoever asks first.
    map.loadAtlas(map.atlasOf(index))
      .then(() => state.hovered === index && map.drawThumb(ctx, index, 0, 0, 28))
      .catch(() => { text.append(" (image unavailable)"); });
  }

  /** Hovering empty map space shows the image decoded at the latent point that position stands for. */
  const decodeAt = latestOnly((qx, qy) => postJSON(`/api/spaces/${state.space}/decode_xy`, { xy: [[qx, qy]] })
      .then((answer) => {
        if (state.hovered >= 0) return;
        const bytes = Uint8Array.from(atob(answer.pixels), (c) => c.charCodeAt(0));
        const ctx = el("hover-image").getContext("2d");
        const image = ctx.createImageData(28, 28);
        for (let p = 0; p < 784; p++) image.data.set([bytes[p], bytes[p], bytes[p], 255], p * 4);
        ctx.putImageData(image, 0, 0);
        el("hover-text").replaceChildren(
          textNode("div", `decoded at (${qx.toFixed(2)}, ${qy.toFixed(2)})`), textNode("div", answer.method, "method"));
        state.decodedAt = [qx, qy];
      }));

  function filterBy(kind) {
    const i = state.hovered;
    if (i < 0) return;
    const { labels, typefaces, count } = state.points;
    if (kind === "typeface" && typefaces[i] < 0) return;
    const mask = new Uint8Array(count);
    const values = kind === "typeface" ? typefaces : labels, value = values[i];
    for (let j = 0; j < count; j++) mask[j] = values[j] === value ? 1 : 0;
    state.filter = { kind, value };
    map.setFilter(mask); // and fits the view to what remains
  }

  function clearFilter() {
    state.filter = null;
    map.setFilter(null);
  }

  // ------------------------------------------------------------------ validity layer

  async function showValidity() {
    const status = el("validity-status");
    const space = state.space;
    status.textContent = "computing…";
    const url = `/api/spaces/${space}/validity_map`;
    // Starting the computation is a POST (Origin-checked); polling reads with GETs.
    let response = await request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    for (let attempt = 0; attempt < 600; attempt++) {
      if (attempt > 0) response = await request(url);
      if (!state.validity || space !== state.space) return;
      if (response.status === 202) { await new Promise((r) => setTimeout(r, 500)); continue; }
      const answer = await response.json();
      if (!response.ok) { showError(status, answer.detail); return; }
      const [w, h] = answer.size;
      const canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(w, h);
      answer.validity.forEach((v, p) => image.data.set([Math.round(255 * (1 - v)), Math.round(200 * v), 60, 255], p * 4));
      ctx.putImageData(image, 0, 0);
      map.setOverlay({ canvas, extent: answer.extent });
      const mean = answer.validity.reduce((a, b) => a + b, 0) / answer.validity.length;
      status.textContent = `${Math.round(100 * mean)}% of the map decodes to valid images (green); ${answer.method}`;
      state.validityMap = answer;
      return;
    }
  }

  function toggleValidity(on) {
    state.validity = on;
    el("validity").checked = on;
    if (on) showValidity();
    else { map.setOverlay(null); el("validity-status").textContent = ""; }
    saveHash();
  }

  // ------------------------------------------------------------------ the URL hash

  function saveHash() {
    const p = new URLSearchParams();
    p.set("space", state.space);
    p.set("e", state.experiment);
    EXPERIMENTS[state.experiment].save(x, p);
    if (state.compare) p.set("compare", "1");
    if (state.validity) p.set("validity", "1");
    host.saveView(p);
    host.picked(picks());
  }

  /** What a click made: the rows picked and the target (C images, A and B for an analogy). */
  function picks() {
    return { experiment: state.experiment, ...EXPERIMENTS[state.experiment].picked(x) };
  }

  /** Picks set from outside (the notebook): the grid follows. */
  function setPicks(rows, target = null, b = null) {
    if (!EXPERIMENTS[state.experiment].setPicks) state.experiment = "interpolation"; // samples take no picks
    EXPERIMENTS[state.experiment].setPicks(x, rows, target, b);
    refresh();
  }

  function select(indices) {
    state.selection = indices.map((i) => state.points.rows[i]);
    el("status").textContent = state.selection.length
      ? `${state.selection.length.toLocaleString()} image(s) selected (alt+drag; alt+click clears)` : "selection cleared";
    host.selected(state.selection);
  }

  function readHash() {
    const p = host.readView();
    const space = Number(p.get("space"));
    const experiment = EXPERIMENTS[p.get("e")] ? p.get("e") : "interpolation";
    return {
      space: Number.isInteger(space) && space >= 0 ? space : 0, experiment,
      compare: p.get("compare") === "1", validity: p.get("validity") === "1",
      ...EXPERIMENTS[experiment].read(p, state),
    };
  }

  /** The experiments in the menu and each one's controls (shown while it is on). */
  function mountExperiments() {
    const menu = el("experiment");
    const controls = el("experiment-controls");
    for (const experiment of Object.values(EXPERIMENTS)) {
      menu.append(new Option(experiment.title, experiment.name));
      if (experiment.controls) controls.insertBefore(controlsOf[experiment.name] = experiment.controls(x), el("download"));
    }
  }

  // ------------------------------------------------------------------ wiring

  function wire(keys) {
    map.addEventListener("pick", (e) => pick(e.detail.index, e.detail.shift));
    map.addEventListener("select", (e) => select(e.detail.indices));
    map.addEventListener("hover", (e) => showHover(e.detail.index));
    map.addEventListener("hoverempty", (e) => decodeAt(e.detail.x, e.detail.y));
    el("experiment").addEventListener("change", (e) => { state.experiment = e.target.value; clearExperiment(); });
    el("toggle-experiment").addEventListener("click", () => {
      const order = Object.keys(EXPERIMENTS).filter((k) => !el("experiment").querySelector(`[value="${k}"]`).disabled);
      state.experiment = order[(order.indexOf(state.experiment) + 1) % order.length];
      clearExperiment();
    });
    el("colour-by").addEventListener("change", (e) => {
      map.setColors(state.points.colors = colours(e.target.value));
      showLegend(e.target.value);
    });
    el("space").addEventListener("change", (e) => loadSpace(Number(e.target.value)));
    el("compare").addEventListener("change", (e) => { state.compare = e.target.checked; saveHash(); requestGrid(); });
    el("validity").addEventListener("change", (e) => toggleValidity(e.target.checked));
    el("download").addEventListener("click", () => {
      const link = document.createElement("a");
      link.download = `latentmap-${state.experiment}.png`;
      link.href = gridPNG(el("grid"));
      link.click();
    });
    keys.addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === " ") { e.preventDefault(); clearExperiment(); }
      else if (e.key === "f" || e.key === "F") filterBy("typeface");
      else if (e.key === "c" || e.key === "C") filterBy("class");
      else if (e.key === "Escape") clearFilter();
    });
  }

  async function start() {
    state.spaces = await getJSON("/api/spaces");
    state.spaces.forEach((s, k) => el("space").append(new Option(`${s.kind}: ${s.name}`, String(k))));
    el("space").style.display = state.spaces.length > 1 ? "" : "none";
    const saved = readHash();
    Object.assign(state, { ...saved, space: saved.space < state.spaces.length ? saved.space : 0 });
    el("compare").checked = state.compare;
    el("validity").checked = state.validity;
    mountExperiments();
    await loadSpace(state.space);
  }

  map = new MapView(el("map"), (k) => loadImage(`/api/spaces/${state.space}/atlas/${k}.png?v=${state.info.version}`));
  wire(overrides.keys ?? document);
  return {
    state, map, setPicks,
    screenOf: (index) => screenOf(map, index),
    indexOfRow(row) { return state.rowIndex.get(row); },
    ready: start().catch((error) => { showError(el("meta"), error.message); throw error; }),
  };
}
