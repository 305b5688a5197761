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
import { MapView } from "./mapview.js";
import { loadPoints, screenOf } from "./spaces.js";

const MAX_SOURCES = 10;
const MAX_C = 7;
const INTERPOLATION_HEADINGS = ["src", "1/8", "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "tgt", "+10%", "+50%"];
const MORPH_HEADINGS = ["A", "1/8", "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "B"];
const EXPERIMENTS = {
  interpolation: "Interpolation", analogy: "Analogy", morph: "Typeface morph", attribute: "Attribute vector",
  samples: "Samples",
};
const SAMPLERS = {
  prior: "the prior N(0, I)", gaussian: "a Gaussian fitted to the train codes",
  gmm: "a 10-component Gaussian mixture fitted to the train codes",
};
const SAMPLE_ROWS = 4;
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
    el("experiment").querySelector('[value="morph"]').disabled = !info.typefaces.length;
    el("compare").parentElement.style.display = sameDatasetSpaces().length > 1 ? "" : "none";
    await setupAttributes();
    setupSamplers();
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

  /** Clicks pick dataset rows; shift-click (or right-click) sets the target / A. */
  function pick(index, shift) {
    const row = state.points.rows[index];
    const e = state.experiment;
    if (e === "samples") return; // samples come from the sampler, not from picks
    if (e === "interpolation" || e === "morph") {
      const limit = e === "morph" ? 1 : MAX_SOURCES;
      if (state.target === null && !shift && state.sources.length < limit) {
        if (!state.sources.includes(row)) state.sources.push(row);
      } else if (state.sources.length) {
        state.target = row;
      } else {
        state.sources.push(row);
      }
    } else if (e === "attribute") {
      if (!state.sources.includes(row) && state.sources.length < MAX_SOURCES) state.sources.push(row);
    } else if (state.a === null && !shift && state.cs.length < MAX_C) {
      if (!state.cs.includes(row)) state.cs.push(row);
    } else if (!state.cs.length) {
      state.cs.push(row);
    } else if (state.a === null) {
      state.a = row;
    } else if (state.b === null && !shift) {
      state.b = row;
    } else if (shift) {
      state.a = row;
    } else {
      state.b = row;
    }
    updateExperiment();
    requestGrid();
  }

  const HELP = {
    interpolation: () => `Click up to ${MAX_SOURCES} <b style="color:${MARKERS.source.color}">sources</b>, then shift-click ` +
      `(or right-click) a <b style="color:${MARKERS.target.color}">target</b>; later clicks change the target.`,
    analogy: () => `Click up to ${MAX_C} <b style="color:${MARKERS.c.color}">C</b> images, then shift-click ` +
      `<b style="color:${MARKERS.a.color}">A</b> and click <b style="color:${MARKERS.b.color}">B</b>: ` +
      `D = C + B − A. Later clicks change B, shift-clicks change A.`,
    morph: () => `Click a glyph of typeface <b style="color:${MARKERS.source.color}">A</b>, then shift-click one of ` +
      `typeface <b style="color:${MARKERS.target.color}">B</b>: each character of the text morphs from A to B.`,
    attribute: () => `Click up to ${MAX_SOURCES} images, choose a vector and drag the strength: each row shows the ` +
      `image, its reconstruction, and its code + strength × vector decoded.`,
    samples: () => `New images decoded from codes drawn from ${SAMPLERS[state.sampler]}, with the judge's verdicts. ` +
      `Hover a sample to mark its nearest images on the map (pixel distance); <b>new draw</b> takes the next seed.`,
  };

  function updateExperiment() {
    const e = state.experiment;
    el("experiment").value = e;
    el("experiment-title").textContent = EXPERIMENTS[e];
    el("experiment-help").innerHTML = HELP[e]();
    el("interpolation-mode").style.display = e === "interpolation" ? "" : "none";
    el("morph-controls").style.display = e === "morph" ? "" : "none";
    el("attribute-controls").style.display = e === "attribute" ? "" : "none";
    el("samples-controls").style.display = e === "samples" ? "" : "none";
    const markers = [];
    const mark = (row, kind, label) => {
      const index = row === null ? undefined : state.rowIndex?.get(row);
      if (index !== undefined) markers.push({ index, label, ...MARKERS[kind] });
    };
    if (e === "analogy") {
      state.cs.forEach((r, k) => mark(r, "c", `C${k + 1}`));
      mark(state.a, "a", "A");
      mark(state.b, "b", "B");
      el("status").textContent = `${state.cs.length} C image(s)` + (state.a !== null ? `, A #${state.a}` : "") +
        (state.b !== null ? `, B #${state.b}` : "");
    } else if (e === "samples") {
      el("status").textContent = `${SAMPLE_ROWS * 8} samples, seed ${state.seed}`;
    } else {
      state.sources.forEach((r, k) => mark(r, "source", e === "morph" ? "A" : `S${k + 1}`));
      mark(state.target, "target", e === "morph" ? "B" : "T");
      el("status").textContent = `${state.sources.length} pick(s)` + (state.target !== null ? `, target #${state.target}` : "");
    }
    map.setMarkers(markers);
    saveHash();
  }

  function ready() {
    const e = state.experiment;
    if (e === "interpolation" || e === "morph") return state.sources.length && state.target !== null;
    if (e === "analogy") return state.cs.length && state.a !== null && state.b !== null;
    if (e === "samples") return true;
    return state.sources.length && state.attribute !== null;
  }

  async function requestGrid() {
    if (!ready()) return;
    const ticket = ++state.request;
    const e = state.experiment;
    const compared = state.compare ? sameDatasetSpaces().map((s) => s.k) : [state.space];
    const spaces = [state.space, ...compared.filter((k) => k !== state.space)];
    try {
      let sections;
      if (e === "interpolation" || e === "analogy") {
        const body = e === "interpolation"
          ? { spaces, sources: state.sources, target: state.target, mode: state.mode }
          : { spaces, c: state.cs, a: state.a, b: state.b };
        const answer = await postJSON(`/api/compare/${e === "interpolation" ? "interpolate" : "analogy"}`, body);
        sections = answer.grids.map((grid) => ({
          grid, title: `${grid.kind}: ${grid.name}`,
          headings: e === "interpolation" ? INTERPOLATION_HEADINGS : ["C", "D"], originals: e === "interpolation" ? [0, 8] : [0],
        }));
      } else if (e === "morph") {
        const grid = await postJSON(`/api/spaces/${state.space}/morph`, { a: state.sources[0], b: state.target, text: state.text });
        sections = [{ grid, headings: MORPH_HEADINGS, originals: [0, 8], rowLabels: grid.chars, gaps: grid.shared }];
      } else if (e === "samples") {
        const grid = await postJSON(`/api/spaces/${state.space}/samples`,
          { sampler: state.sampler, rows: SAMPLE_ROWS, seed: state.seed });
        const valid = grid.verdicts ? grid.verdicts.flat().filter((v) => v.valid).length : null;
        sections = [{ grid, headings: [], originals: [], title: `${grid.rows * grid.cols} samples from ${SAMPLERS[grid.sampler]}` +
          (valid === null ? "" : ` · ${valid} valid`) }];
        state.samples = grid;
      } else {
        const grid = await postJSON(`/api/spaces/${state.space}/attribute`,
          { rows: state.sources, name: state.attribute, strength: state.strength });
        el("attribute-info").textContent = `${grid.description} · built from ${grid.pairs.toLocaleString()} ` +
          (state.info.typefaces.length ? "typeface pairs" : "images");
        sections = [{ grid, headings: ["image", "recon", `${state.strength > 0 ? "+" : ""}${state.strength}×`], originals: [0] }];
      }
      if (ticket !== state.request) return; // a newer request superseded this one
      const container = el("grid");
      container.replaceChildren();
      for (const section of sections) renderGrid(container, section, state.info.label_names);
      if (e === "samples") markNearestOnHover(container, state.samples);
      container.dataset.experiment = e;
    } catch (error) {
      showError(el("status"), error.message);
    }
  }

  // ------------------------------------------------------------------ samples

  function setupSamplers() {
    const select = el("sampler");
    const offered = state.info.samplers || [];
    select.replaceChildren(...offered.map((name) => new Option(SAMPLERS[name], name)));
    if (!offered.includes(state.sampler)) state.sampler = offered.includes("gmm") ? "gmm" : offered[0];
    select.value = state.sampler;
  }

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

  // ------------------------------------------------------------------ attribute vectors

  async function setupAttributes() {
    const select = el("attribute-name");
    select.replaceChildren();
    state.attribute = null;
    const option = el("experiment").querySelector('[value="attribute"]');
    try {
      const offer = await getJSON(`/api/spaces/${state.space}/attributes`);
      if (offer.kind === "class") {
        const names = offer.classes;
        names.forEach((a, i) => names.forEach((b, j) => {
          if (i !== j) select.append(new Option(`mean ${a} − mean ${b}`, `class:${i}-${j}`));
        }));
      } else {
        for (const a of offer.attributes) select.append(new Option(`${a.name} (${a.pairs} pairs)`, a.name));
      }
      state.attribute = select.value || null;
      option.disabled = !select.options.length;
      option.title = "";
    } catch (error) {
      option.disabled = true; // the control is hidden; the server says why
      option.title = error.message;
      if (state.experiment === "attribute") state.experiment = "interpolation";
    }
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
    if (state.sources.length) p.set("src", state.sources.join(","));
    if (state.target !== null) p.set("t", state.target);
    if (state.cs.length) p.set("c", state.cs.join(","));
    if (state.a !== null) p.set("a", state.a);
    if (state.b !== null) p.set("b", state.b);
    if (state.mode !== "linear") p.set("mode", state.mode);
    if (state.compare) p.set("compare", "1");
    if (state.validity) p.set("validity", "1");
    if (state.experiment === "morph") p.set("text", state.text);
    if (state.experiment === "attribute" && state.attribute) { p.set("attr", state.attribute); p.set("s", state.strength); }
    if (state.experiment === "samples") { p.set("sampler", state.sampler); p.set("seed", state.seed); }
    host.saveView(p);
    host.picked(picks());
  }

  /** What a click made: the rows picked and the target (C images and A for an analogy). */
  function picks() {
    return state.experiment === "analogy"
      ? { experiment: "analogy", picks: [...state.cs], target: state.a, b: state.b }
      : { experiment: state.experiment, picks: [...state.sources], target: state.target, b: null };
  }

  /** Picks set from outside (the notebook): the grid follows. */
  function setPicks(rows, target = null, b = null) {
    const valid = (row) => Number.isInteger(row) && row >= 0;
    if (state.experiment === "samples") state.experiment = "interpolation";
    if (state.experiment === "analogy") {
      Object.assign(state, { cs: rows.filter(valid).slice(0, MAX_C), a: valid(target) ? target : null, b: valid(b) ? b : null });
    }
    else Object.assign(state, { sources: rows.filter(valid).slice(0, MAX_SOURCES), target: valid(target) ? target : null });
    updateExperiment();
    requestGrid();
  }

  function select(indices) {
    state.selection = indices.map((i) => state.points.rows[i]);
    el("status").textContent = state.selection.length
      ? `${state.selection.length.toLocaleString()} image(s) selected (alt+drag; alt+click clears)` : "selection cleared";
    host.selected(state.selection);
  }

  function readHash() {
    const p = host.readView();
    const rows = (key) => (p.get(key) || "").split(",").filter(Boolean).map(Number).filter(Number.isInteger);
    const one = (key) => (p.has(key) && Number.isInteger(Number(p.get(key))) ? Number(p.get(key)) : null);
    return {
      space: one("space") ?? 0,
      experiment: EXPERIMENTS[p.get("e")] ? p.get("e") : "interpolation",
      sources: rows("src"), target: one("t"), cs: rows("c"), a: one("a"), b: one("b"),
      mode: p.get("mode") === "slerp" ? "slerp" : "linear",
      compare: p.get("compare") === "1", validity: p.get("validity") === "1",
      text: p.get("text") ?? state.text, attribute: p.get("attr"), strength: Number(p.get("s") ?? 1),
      sampler: SAMPLERS[p.get("sampler")] ? p.get("sampler") : "gmm", seed: Math.max(0, one("seed") ?? 0),
    };
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
    el("interpolation-mode").addEventListener("change", (e) => { state.mode = e.target.value; saveHash(); requestGrid(); });
    el("morph-text").addEventListener("change", (e) => { state.text = e.target.value; saveHash(); requestGrid(); });
    el("attribute-name").addEventListener("change", (e) => { state.attribute = e.target.value; saveHash(); requestGrid(); });
    el("sampler").addEventListener("change", (e) => { state.sampler = e.target.value; updateExperiment(); requestGrid(); });
    el("resample").addEventListener("click", () => { state.seed += 1; updateExperiment(); requestGrid(); });
    el("strength").addEventListener("input", (e) => {
      state.strength = Number(e.target.value);
      el("strength-value").textContent = state.strength.toFixed(1);
      saveHash();
      requestGrid();
    });
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
    el("interpolation-mode").value = state.mode;
    el("morph-text").value = state.text;
    el("strength").value = state.strength;
    el("strength-value").textContent = state.strength.toFixed(1);
    const attribute = state.attribute;
    await loadSpace(state.space);
    if (attribute && [...el("attribute-name").options].some((o) => o.value === attribute)) {
      state.attribute = el("attribute-name").value = attribute;
      requestGrid();
    }
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
