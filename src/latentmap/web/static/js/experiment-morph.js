// Typeface morph (TMNIST): each character of the text from typeface A to typeface B in 7 steps.
import { controls, pickSourcesThenTarget, sourcesAndTarget } from "./experiment-parts.js";

const HEADINGS = ["A", "1/8", "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "B"];

export default {
  name: "morph",
  title: "Typeface morph",
  available: (x) => x.state.info.typefaces.length > 0,
  help: (x) => `Click a glyph of typeface <b style="color:${x.markers.source.color}">A</b>, then shift-click one of ` +
    `typeface <b style="color:${x.markers.target.color}">B</b>: each character of the text morphs from A to B.`,
  controls(x) {
    const span = controls('text <input type="text" id="morph-text" maxlength="32">');
    const text = span.querySelector("input");
    text.value = x.state.text;
    text.addEventListener("change", () => { x.state.text = text.value; x.refresh(); });
    return span;
  },
  pick(x, row, shift) { pickSourcesThenTarget(x.state, row, shift, 1); },
  show: (x, mark) => sourcesAndTarget.show(x, mark, [() => "A", "B"]),
  ready: (x) => x.state.sources.length && x.state.target !== null,
  async sections(x) {
    const { state } = x;
    const body = { a: state.sources[0], b: state.target, text: state.text };
    const grid = await x.api.postJSON(`/api/spaces/${state.space}/morph`, body);
    return [{ grid, headings: HEADINGS, originals: [0, 8], rowLabels: grid.chars, gaps: grid.shared }];
  },
  save(x, params) {
    sourcesAndTarget.save(x, params);
    params.set("text", x.state.text);
  },
  read: (params, state) => ({ ...sourcesAndTarget.read(params), text: params.get("text") ?? state.text }),
  picked: (x) => sourcesAndTarget.picked(x),
  setPicks: (x, rows, target) => sourcesAndTarget.setPicks(x, rows, target, 1),
};
