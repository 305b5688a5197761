// A map's points from the API (info + the binary points blob), shared by the glyph and the
// typeface pages, and the handle tests use to find a point on the page.

export async function loadPoints(api, k) {
  const info = await api.getJSON(`/api/spaces/${k}/info`);
  const buffer = await api.getBytes(`/api/spaces/${k}/points?v=${info.version}`);
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

const SPREAD_RATIO = 10;

/** A map whose axes spread over 10x apart (a PCA map where one component dominates draws as
 * a thin line) is drawn with the narrower axis stretched to the other's spread; returns the
 * factors, so positions can be turned back into map coordinates (x / factor.x, y / factor.y). */
export function spreadAxes(points) {
  const spread = (values) => {
    let mean = 0;
    for (const v of values) mean += v / values.length;
    let sum = 0;
    for (const v of values) sum += (v - mean) ** 2;
    return Math.sqrt(sum / values.length);
  };
  const ratio = spread(points.x) / spread(points.y);
  if (!(ratio > SPREAD_RATIO || ratio < 1 / SPREAD_RATIO)) return { x: 1, y: 1 };
  const factor = ratio > 1 ? { x: 1, y: ratio } : { x: 1 / ratio, y: 1 };
  for (let i = 0; i < points.count; i++) { points.x[i] *= factor.x; points.y[i] *= factor.y; }
  return factor;
}
