// What several experiments share: controls from their own markup, the sources-then-target
// way of picking, and reading picks back from the URL.

/** A control's element from markup the module writes (its own names, set as text where data). */
export function controls(html) {
  const span = document.createElement("span");
  span.innerHTML = html; // the module's own static markup, never data
  return span;
}

/** Rows picked then a target (interpolation, morph): shift-click or a full list sets the target. */
export function pickSourcesThenTarget(state, row, shift, limit) {
  if (state.target === null && !shift && state.sources.length < limit) {
    if (!state.sources.includes(row)) state.sources.push(row);
  } else if (state.sources.length) {
    state.target = row;
  } else {
    state.sources.push(row);
  }
}

/** The URL's list of rows and its integer values. */
export const rowsOf = (params, key) => (params.get(key) || "").split(",").filter(Boolean).map(Number).filter(Number.isInteger);
export const oneOf = (params, key) => (params.has(key) && Number.isInteger(Number(params.get(key))) ? Number(params.get(key)) : null);
export const valid = (row) => Number.isInteger(row) && row >= 0;

/** Sources and a target kept in the URL and handed to the notebook (interpolation, morph). */
export const sourcesAndTarget = {
  save(x, params) {
    if (x.state.sources.length) params.set("src", x.state.sources.join(","));
    if (x.state.target !== null) params.set("t", x.state.target);
  },
  read(params) { return { sources: rowsOf(params, "src"), target: oneOf(params, "t") }; },
  picked(x) { return { picks: [...x.state.sources], target: x.state.target, b: null }; },
  setPicks(x, rows, target, limit) {
    Object.assign(x.state, { sources: rows.filter(valid).slice(0, limit), target: valid(target) ? target : null });
  },
  show(x, mark, [source, target]) {
    x.state.sources.forEach((r, k) => mark(r, "source", source(k)));
    mark(x.state.target, "target", target);
    return `${x.state.sources.length} pick(s)` + (x.state.target !== null ? `, target #${x.state.target}` : "");
  },
};
