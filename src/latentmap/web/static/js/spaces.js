// A map's points from the API (info + the binary points blob), shared by the glyph and the
// typeface pages, and the handle tests use to find a point on the page.
import { getBytes, getJSON } from "./api.js";

export async function loadPoints(k) {
  const info = await getJSON(`/api/spaces/${k}/info`);
  const buffer = await getBytes(`/api/spaces/${k}/points?v=${info.version}`);
  const n = info.count, layout = info.points_layout;
  const xy = new Float32Array(buffer, layout.xy, 2 * n);
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = xy[2 * i]; y[i] = xy[2 * i + 1]; }
  const points = {
    x, y, count: n, atlas: info.atlas,
    labels: new Uint16Array(buffer, layout.labels, n),
    typefaces: new Int32Array(buffer, layout.typefaces, n),
    categories: new Int16Array(buffer, layout.categories, n),
    rows: new Int32Array(buffer, layout.rows, n),
  };
  return { info, points };
}

/** Where point `index` of `map` is on the page (for tests and the console). */
export function screenOf(map, index) {
  const [sx, sy] = map.toScreen(index);
  const rect = map.canvas.getBoundingClientRect();
  return [rect.left + sx, rect.top + sy];
}
