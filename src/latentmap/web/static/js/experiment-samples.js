// Samples: new images decoded from codes drawn from the run's sampler; hovering one marks its
// nearest images on the map.
import { controls, oneOf } from "./experiment-parts.js";

const ROWS = 4;
export const SAMPLERS = {
  prior: "the prior N(0, I)", gaussian: "a Gaussian fitted to the train codes",
  gmm: "a 10-component Gaussian mixture fitted to the train codes",
};

export default {
  name: "samples",
  title: "Samples",
  help: (x) => `New images decoded from codes drawn from ${SAMPLERS[x.state.sampler]}, with the judge's verdicts. ` +
    "Hover a sample to mark its nearest images on the map (pixel distance); <b>new draw</b> takes the next seed.",
  controls(x) {
    const span = controls('<select id="sampler" title="where the sampled codes come from"></select> ' +
      '<button id="resample" title="draw new samples (next seed)">new draw</button>');
    span.querySelector("select").addEventListener("change", (e) => { x.state.sampler = e.target.value; x.refresh(); });
    span.querySelector("button").addEventListener("click", () => { x.state.seed += 1; x.refresh(); });
    return span;
  },
  async onSpace(x) {
    const { state, el } = x;
    const select = el("sampler");
    const offered = state.info.samplers || [];
    select.replaceChildren(...offered.map((name) => new Option(SAMPLERS[name], name)));
    if (!offered.includes(state.sampler)) state.sampler = offered.includes("gmm") ? "gmm" : offered[0];
    select.value = state.sampler;
    return { available: offered.length > 0 };
  },
  pick() {}, // samples come from the sampler, not from picks
  show: (x) => `${ROWS * 8} samples, seed ${x.state.seed}`,
  ready: () => true,
  async sections(x) {
    const { state } = x;
    const grid = await x.api.postJSON(`/api/spaces/${state.space}/samples`, { sampler: state.sampler, rows: ROWS, seed: state.seed });
    const valid = grid.verdicts ? grid.verdicts.flat().filter((v) => v.valid).length : null;
    state.samples = grid;
    const title = `${grid.rows * grid.cols} samples from ${SAMPLERS[grid.sampler]}` + (valid === null ? "" : ` · ${valid} valid`);
    return [{ grid, headings: [], originals: [], title }];
  },
  shown(x, container) { x.markNearestOnHover(container, x.state.samples); },
  save(x, params) { params.set("sampler", x.state.sampler); params.set("seed", x.state.seed); },
  read: (params) => ({ sampler: SAMPLERS[params.get("sampler")] ? params.get("sampler") : "gmm", seed: Math.max(0, oneOf(params, "seed") ?? 0) }),
  picked: () => ({ picks: [], target: null, b: null }),
};
