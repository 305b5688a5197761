// Interpolation: per source, 7 decodes on the way to the target, then 10% and 50% beyond;
// the same picks through every model of the dataset when comparing.
import { controls, pickSourcesThenTarget, sourcesAndTarget } from "./experiment-parts.js";

const MAX_SOURCES = 10;
const HEADINGS = ["src", "1/8", "2/8", "3/8", "4/8", "5/8", "6/8", "7/8", "tgt", "+10%", "+50%"];

export default {
  name: "interpolation",
  title: "Interpolation",
  help: (x) => `Click up to ${MAX_SOURCES} <b style="color:${x.markers.source.color}">sources</b>, then shift-click ` +
    `(or right-click) a <b style="color:${x.markers.target.color}">target</b>; later clicks change the target.`,
  controls(x) {
    const span = controls('<select id="interpolation-mode"><option value="linear">linear interpolation</option>' +
      '<option value="slerp">spherical (slerp)</option></select>');
    const mode = span.querySelector("select");
    mode.value = x.state.mode;
    mode.addEventListener("change", () => { x.state.mode = mode.value; x.refresh(); });
    return span;
  },
  pick(x, row, shift) { pickSourcesThenTarget(x.state, row, shift, MAX_SOURCES); },
  show: (x, mark) => sourcesAndTarget.show(x, mark, [(k) => `S${k + 1}`, "T"]),
  ready: (x) => x.state.sources.length && x.state.target !== null,
  async sections(x) {
    const { state } = x;
    const body = { spaces: x.compared(), sources: state.sources, target: state.target, mode: state.mode };
    const answer = await x.api.postJSON("/api/compare/interpolate", body);
    return answer.grids.map((grid) => ({ grid, title: `${grid.kind}: ${grid.name}`, headings: HEADINGS, originals: [0, 8] }));
  },
  save(x, params) {
    sourcesAndTarget.save(x, params);
    if (x.state.mode !== "linear") params.set("mode", x.state.mode);
  },
  read: (params) => ({ ...sourcesAndTarget.read(params), mode: params.get("mode") === "slerp" ? "slerp" : "linear" }),
  picked: (x) => sourcesAndTarget.picked(x),
  setPicks: (x, rows, target) => sourcesAndTarget.setPicks(x, rows, target, MAX_SOURCES),
};
