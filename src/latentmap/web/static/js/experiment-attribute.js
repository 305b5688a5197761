// Attribute vectors: picked images' codes plus strength x a vector (TMNIST bolder / italic /
// serif from the manifest's families, or a difference of class means), decoded.
import { controls, rowsOf, valid } from "./experiment-parts.js";

const MAX_SOURCES = 10;

export default {
  name: "attribute",
  title: "Attribute vector",
  help: () => `Click up to ${MAX_SOURCES} images, choose a vector and drag the strength: each row shows the ` +
    "image, its reconstruction, and its code + strength × vector decoded.",
  controls(x) {
    const span = controls('<select id="attribute-name"></select> strength <input type="range" id="strength" ' +
      'min="-2" max="2" step="0.1"> <b id="strength-value"></b><div class="method" id="attribute-info"></div>');
    const [name, strength, shown] = ["#attribute-name", "#strength", "#strength-value"].map((s) => span.querySelector(s));
    strength.value = x.state.strength;
    shown.textContent = x.state.strength.toFixed(1);
    name.addEventListener("change", () => { x.state.attribute = name.value; x.refresh(); });
    strength.addEventListener("input", () => {
      x.state.strength = Number(strength.value);
      shown.textContent = x.state.strength.toFixed(1);
      x.refresh();
    });
    return span;
  },
  /** The vectors this map offers (a TMNIST without a manifest has none: the server says why). */
  async onSpace(x) {
    const { state, el } = x;
    const select = el("attribute-name");
    const wanted = state.attribute;
    select.replaceChildren();
    state.attribute = null;
    try {
      const offer = await x.api.getJSON(`/api/spaces/${state.space}/attributes`);
      if (offer.kind === "class") {
        const names = offer.classes;
        names.forEach((a, i) => names.forEach((b, j) => {
          if (i !== j) select.append(new Option(`mean ${a} − mean ${b}`, `class:${i}-${j}`));
        }));
      } else {
        for (const a of offer.attributes) select.append(new Option(`${a.name} (${a.pairs} pairs)`, a.name));
      }
      if (wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
      state.attribute = select.value || null;
      return { available: select.options.length > 0 };
    } catch (error) {
      return { available: false, why: error.message };
    }
  },
  pick(x, row) {
    if (!x.state.sources.includes(row) && x.state.sources.length < MAX_SOURCES) x.state.sources.push(row);
  },
  show(x, mark) {
    x.state.sources.forEach((r, k) => mark(r, "source", `S${k + 1}`));
    return `${x.state.sources.length} pick(s)`;
  },
  ready: (x) => x.state.sources.length && x.state.attribute !== null,
  async sections(x) {
    const { state, el } = x;
    const body = { rows: state.sources, name: state.attribute, strength: state.strength };
    const grid = await x.api.postJSON(`/api/spaces/${state.space}/attribute`, body);
    el("attribute-info").textContent = `${grid.description} · built from ${grid.pairs.toLocaleString()} ` +
      (state.info.typefaces.length ? "typeface pairs" : "images");
    return [{ grid, headings: ["image", "recon", `${state.strength > 0 ? "+" : ""}${state.strength}×`], originals: [0] }];
  },
  save(x, params) {
    if (x.state.sources.length) params.set("src", x.state.sources.join(","));
    if (x.state.attribute) { params.set("attr", x.state.attribute); params.set("s", x.state.strength); }
  },
  read: (params) => ({ sources: rowsOf(params, "src"), attribute: params.get("attr"), strength: Number(params.get("s") ?? 1) }),
  picked: (x) => ({ picks: [...x.state.sources], target: null, b: null }),
  setPicks(x, rows) { x.state.sources = rows.filter(valid).slice(0, MAX_SOURCES); },
};
