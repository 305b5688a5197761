// The explorer's experiments, one module each, in the one table the page reads: its title,
// its controls, what a click picks, when it is ready, the request it makes, what it keeps in
// the URL and what it tells the notebook. Adding an experiment is a module and a line here.
// Each module's functions take the running explorer `x` ({ state, el, api, markers,
// compared, refresh, ... }): they keep no state of their own.
import analogy from "./experiment-analogy.js";
import attribute from "./experiment-attribute.js";
import interpolation from "./experiment-interpolation.js";
import morph from "./experiment-morph.js";
import samples from "./experiment-samples.js";

export const EXPERIMENTS = Object.fromEntries(
  [interpolation, analogy, morph, attribute, samples].map((experiment) => [experiment.name, experiment]),
);
