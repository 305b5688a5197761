// The explorer page's entry: the explorer in this document, its handle on `window` for
// tests and the console.
import { startExplorer } from "./explorer.js";

window.explorer = startExplorer(document);
