// Class colours: the same palette as the rendered map.png (latentmap/maps.py).

const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const TAB20 = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
  "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"];

function hsv(h, s, v) {
  const i = Math.floor(h * 6), f = h * 6 - i, p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [r, g, b];
}

function hexToRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
}

/** n colours as [r, g, b] in 0..255, brightened for a dark background. */
export function palette(n) {
  const base = n <= 10 ? TAB10.slice(0, n).map(hexToRgb)
    : n <= 20 ? TAB20.slice(0, n).map(hexToRgb)
    : Array.from({ length: n }, (_, i) => hsv((i * 0.618034) % 1, 0.75, 1));
  return base.map((c) => c.map((x) => Math.min(255, Math.round(Math.min(1, x * 1.15) * 255))));
}

export const css = ([r, g, b]) => `rgb(${r},${g},${b})`;

/** Pack [r, g, b] into a little-endian RGBA uint32 for ImageData writes. */
export const packed = ([r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
