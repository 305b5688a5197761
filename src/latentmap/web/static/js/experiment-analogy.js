// Analogy: per C image, D = decode(code(C) + code(B) - code(A)); the same picks through every
// model of the dataset when comparing.
import { oneOf, rowsOf, valid } from "./experiment-parts.js";

const MAX_C = 7;

export default {
  name: "analogy",
  title: "Analogy",
  help: (x) => `Click up to ${MAX_C} <b style="color:${x.markers.c.color}">C</b> images, then shift-click ` +
    `<b style="color:${x.markers.a.color}">A</b> and click <b style="color:${x.markers.b.color}">B</b>: ` +
    "D = C + B − A. Later clicks change B, shift-clicks change A.",
  pick(x, row, shift) {
    const state = x.state;
    if (state.a === null && !shift && state.cs.length < MAX_C) {
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
  },
  show(x, mark) {
    const state = x.state;
    state.cs.forEach((r, k) => mark(r, "c", `C${k + 1}`));
    mark(state.a, "a", "A");
    mark(state.b, "b", "B");
    return `${state.cs.length} C image(s)` + (state.a !== null ? `, A #${state.a}` : "") +
      (state.b !== null ? `, B #${state.b}` : "");
  },
  ready: (x) => x.state.cs.length && x.state.a !== null && x.state.b !== null,
  async sections(x) {
    const { state } = x;
    const answer = await x.api.postJSON("/api/compare/analogy", { spaces: x.compared(), c: state.cs, a: state.a, b: state.b });
    return answer.grids.map((grid) => ({ grid, title: `${grid.kind}: ${grid.name}`, headings: ["C", "D"], originals: [0] }));
  },
  save(x, params) {
    if (x.state.cs.length) params.set("c", x.state.cs.join(","));
    if (x.state.a !== null) params.set("a", x.state.a);
    if (x.state.b !== null) params.set("b", x.state.b);
  },
  read: (params) => ({ cs: rowsOf(params, "c"), a: oneOf(params, "a"), b: oneOf(params, "b") }),
  picked: (x) => ({ picks: [...x.state.cs], target: x.state.a, b: x.state.b }),
  setPicks(x, rows, target, b) {
    Object.assign(x.state, { cs: rows.filter(valid).slice(0, MAX_C), a: valid(target) ? target : null, b: valid(b) ? b : null });
  },
};
