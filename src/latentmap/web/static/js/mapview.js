// The map: every point as a dot written straight into an ImageData buffer (fast enough for
// 300k points on a CPU), thumbnails from sprite atlases once zoomed in (only the visible
// ones), markers for selected points. Drag pans, the wheel zooms around the cursor, alt+drag
// draws a box that selects the points inside it.

const BACKGROUND = 0xff18130f; // ABGR of #0f1318
const THUMB_MIN_PX = 18; // thumbnails replace dots once they would be this large
const MAX_THUMBS = 2500;
const PICK_RADIUS_PX = 8;
const GRID = 256; // spatial index cells per side

function dataBounds({ x, y, count }, mask = null) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < count; i++) {
    if (mask && !mask[i]) continue;
    if (x[i] < x0) x0 = x[i]; if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i]; if (y[i] > y1) y1 = y[i];
  }
  return { x0, x1, y0, y1 };
}

export class MapView extends EventTarget {
  constructor(canvas, atlasLoader) {
    super();
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.atlasLoader = atlasLoader; // k -> Promise<ImageBitmap>
    this.markers = []; // {index, style}
    this.visible = null; // Uint8Array filter mask or null
    this.hovered = -1;
    this.listen();
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  /** points: {x, y: Float32Array, colors: Uint32Array, count, atlas: {columns, per_atlas, thumb}} */
  setPoints(points) {
    this.points = points;
    this.atlases = new Map(); // k -> loaded image
    this.atlasRequests = new Map(); // k -> Promise<image>, one request per atlas
    this.bounds = dataBounds(points);
    this.buildIndex();
    this.resize();
    this.fit();
  }

  setColors(colors) {
    this.points.colors = colors;
    this.draw();
  }

  /** Show only the points where mask[i] is 1 (null: all), and fit the view to them. */
  setFilter(mask) {
    this.visible = mask;
    this.fit(mask ? dataBounds(this.points, mask) : this.bounds);
  }

  /** An image over the map's data extent [x0, y0, x1, y1] (e.g. the validity layer), or null. */
  setOverlay(overlay) {
    this.overlay = overlay;
    this.draw();
  }

  setMarkers(markers) {
    this.markers = markers;
    this.draw();
  }

  // ---------------------------------------------------------------- geometry

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width)), height = Math.max(1, Math.round(rect.height));
    if (width === this.canvas.width && height === this.canvas.height && this.image) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.image = this.ctx.createImageData(width, height);
    this.pixels = new Uint32Array(this.image.data.buffer);
    if (this.points && !this.scale) this.fit();
    this.draw();
  }

  fit(bounds = this.bounds) {
    if (!Number.isFinite(bounds.x0)) bounds = this.bounds; // an empty filter keeps the view
    const { x0, x1, y0, y1 } = bounds;
    const full = this.bounds;
    const span = Math.max(x1 - x0, y1 - y0) || Math.max(full.x1 - full.x0, full.y1 - full.y0) / 20 || 1;
    this.thumbWorld = Math.max(full.x1 - full.x0, full.y1 - full.y0) / 120 || 1; // a thumbnail's side in data units
    this.scale = 0.92 * Math.min(this.canvas.width, this.canvas.height) / span;
    this.tx = this.canvas.width / 2 - ((x0 + x1) / 2) * this.scale;
    this.ty = this.canvas.height / 2 + ((y0 + y1) / 2) * this.scale;
    this.draw();
  }

  toScreen(i) {
    return [this.points.x[i] * this.scale + this.tx, -this.points.y[i] * this.scale + this.ty];
  }

  toWorld(sx, sy) {
    return [(sx - this.tx) / this.scale, -(sy - this.ty) / this.scale];
  }

  zoomAt(sx, sy, factor) {
    const [wx, wy] = this.toWorld(sx, sy);
    this.scale = Math.min(Math.max(this.scale * factor, 1e-6), 1e7);
    this.tx = sx - wx * this.scale;
    this.ty = sy + wy * this.scale;
    this.draw();
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.draw();
  }

  // ---------------------------------------------------------------- picking

  buildIndex() {
    // Counting sort of points into GRID x GRID cells: O(1) lookups for hover and clicks.
    const { x, y, count } = this.points;
    const { x0, x1, y0, y1 } = this.bounds;
    const cellW = (x1 - x0) / GRID || 1, cellH = (y1 - y0) / GRID || 1;
    const cell = new Uint32Array(count);
    const starts = new Uint32Array(GRID * GRID + 1);
    for (let i = 0; i < count; i++) {
      const cx = Math.min(GRID - 1, Math.floor((x[i] - x0) / cellW));
      const cy = Math.min(GRID - 1, Math.floor((y[i] - y0) / cellH));
      cell[i] = cy * GRID + cx;
      starts[cell[i] + 1]++;
    }
    for (let c = 0; c < GRID * GRID; c++) starts[c + 1] += starts[c];
    const order = new Uint32Array(count), fill = starts.slice(0, GRID * GRID);
    for (let i = 0; i < count; i++) order[fill[cell[i]]++] = i;
    this.index = { x0, y0, cellW, cellH, starts, order };
  }

  /** The visible point nearest to screen position (sx, sy) within the pick radius, or -1. */
  pick(sx, sy, radius = PICK_RADIUS_PX) {
    const { x0, y0, cellW, cellH, starts, order } = this.index;
    const [wx, wy] = this.toWorld(sx, sy);
    const r = Math.max(radius, this.thumbnailsOn() ? this.thumbWorld * this.scale / 2 : radius) / this.scale;
    const cx0 = Math.max(0, Math.floor((wx - r - x0) / cellW)), cx1 = Math.min(GRID - 1, Math.floor((wx + r - x0) / cellW));
    const cy0 = Math.max(0, Math.floor((wy - r - y0) / cellH)), cy1 = Math.min(GRID - 1, Math.floor((wy + r - y0) / cellH));
    let best = -1, bestD = r * r;
    const { x, y } = this.points;
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * GRID + cx;
        for (let k = starts[c]; k < starts[c + 1]; k++) {
          const i = order[k];
          if (this.visible && !this.visible[i]) continue;
          const d = (x[i] - wx) ** 2 + (y[i] - wy) ** 2;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- drawing

  thumbnailsOn() {
    return this.thumbWorld * this.scale >= THUMB_MIN_PX;
  }

  draw() {
    if (!this.points || !this.pixels) return;
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => { this.pending = 0; this.render(); });
  }

  render() {
    const { width, height } = this.canvas;
    const { x, y, colors, count } = this.points;
    const pixels = this.pixels, visible = this.visible;
    pixels.fill(BACKGROUND);
    const thumbs = this.thumbnailsOn();
    const dot = thumbs ? 2 : this.scale * this.thumbWorld > 6 ? 3 : this.scale * this.thumbWorld > 3 ? 2 : 1;
    const pad = thumbs ? this.thumbWorld * this.scale : 0;
    // Zoomed in, at most one thumbnail per screen cell of a thumbnail's size: the point
    // nearest the cell's centre; the others stay dots, so overlapping glyphs stay legible.
    const side = thumbs ? this.thumbWorld * this.scale : 1;
    const cols = thumbs ? Math.ceil((width + 2 * pad) / side) + 1 : 0;
    const cells = thumbs ? Math.ceil((height + 2 * pad) / side) + 1 : 0;
    const best = thumbs ? new Int32Array(cols * cells).fill(-1) : null;
    const bestD = thumbs ? new Float32Array(cols * cells) : null;
    for (let i = 0; i < count; i++) {
      if (visible && !visible[i]) continue;
      const sx = x[i] * this.scale + this.tx, sy = -y[i] * this.scale + this.ty;
      if (sx < -pad || sy < -pad || sx >= width + pad || sy >= height + pad) continue; // culling
      if (thumbs) {
        const cx = Math.floor((sx + pad) / side), cy = Math.floor((sy + pad) / side), c = cy * cols + cx;
        const d = ((sx + pad) / side - cx - 0.5) ** 2 + ((sy + pad) / side - cy - 0.5) ** 2;
        if (best[c] < 0 || d < bestD[c]) { best[c] = i; bestD[c] = d; }
      }
      if (sx < 0 || sy < 0) continue;
      const px = sx | 0, py = sy | 0, color = colors[i];
      for (let dy = 0; dy < dot; dy++) {
        const row = py + dy;
        if (row >= height) break;
        const base = row * width;
        for (let dx = 0; dx < dot; dx++) if (px + dx < width) pixels[base + px + dx] = color;
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
    if (this.overlay) this.drawOverlay();
    const onScreen = [];
    if (thumbs) for (let c = 0; c < best.length && onScreen.length < MAX_THUMBS; c++) if (best[c] >= 0) onScreen.push(best[c]);
    if (thumbs) this.drawThumbnails(onScreen);
    this.drawMarkers();
    if (this.box) this.drawBox();
    this.renders = (this.renders ?? 0) + 1;
    this.renderedAt = performance.now();
    this.firstRenderAt ??= this.renderedAt;
    this.thumbnailsDrawn = onScreen;
    this.dispatchEvent(new CustomEvent("rendered", { detail: { thumbnails: thumbs, drawn: onScreen.length } }));
  }

  drawOverlay() {
    const { canvas, extent, alpha = 0.3 } = this.overlay;
    const [x0, y0, x1, y1] = extent;
    const [sx0, sy0] = [x0 * this.scale + this.tx, -y1 * this.scale + this.ty];
    const ctx = this.ctx;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(canvas, sx0, sy0, (x1 - x0) * this.scale, (y1 - y0) * this.scale);
    ctx.restore();
  }

  drawThumbnails(indices) {
    const size = this.thumbWorld * this.scale;
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = size < this.points.atlas.thumb;
    for (const i of indices) {
      const [sx, sy] = this.toScreen(i);
      if (!this.drawThumb(ctx, i, sx - size / 2, sy - size / 2, size)) {
        ctx.fillStyle = "#444";
        ctx.fillRect(sx - size / 2, sy - size / 2, size, size);
        continue;
      }
      const c = this.points.colors[i];
      ctx.fillStyle = `rgb(${c & 255},${(c >> 8) & 255},${(c >> 16) & 255})`;
      ctx.fillRect(sx - size / 2, sy + size / 2 - 2, size, 2);
    }
  }

  /** Draw point i's thumbnail at (x, y) with side `size`; false while its atlas is loading. */
  drawThumb(ctx, i, x, y, size) {
    const { columns, per_atlas: perAtlas, thumb } = this.points.atlas;
    const k = Math.floor(i / perAtlas), slot = i % perAtlas;
    const atlas = this.atlases.get(k);
    if (!atlas) {
      this.loadAtlas(k).catch(() => {}); // a failed atlas is asked for again at the next draw
      return false;
    }
    ctx.drawImage(atlas, (slot % columns) * thumb, Math.floor(slot / columns) * thumb, thumb, thumb, x, y, size, size);
    return true;
  }

  /** Index of the atlas holding point i. */
  atlasOf(i) {
    return Math.floor(i / this.points.atlas.per_atlas);
  }

  loadAtlas(k) {
    if (!this.atlasRequests.has(k)) {
      const request = this.atlasLoader(k).then(
        (image) => { this.atlases.set(k, image); this.draw(); return image; },
        (error) => { this.atlasRequests.delete(k); throw error; },
      );
      this.atlasRequests.set(k, request);
    }
    return this.atlasRequests.get(k);
  }

  drawMarkers() {
    const ctx = this.ctx;
    const size = this.thumbnailsOn() ? this.thumbWorld * this.scale / 2 + 3 : 7;
    ctx.lineWidth = 2;
    for (const { index, color, shape, label } of this.markers) {
      const [sx, sy] = this.toScreen(index);
      ctx.strokeStyle = color;
      ctx.beginPath();
      if (shape === "square") ctx.rect(sx - size, sy - size, 2 * size, 2 * size);
      else if (shape === "diamond") { ctx.moveTo(sx, sy - size - 2); ctx.lineTo(sx + size + 2, sy); ctx.lineTo(sx, sy + size + 2); ctx.lineTo(sx - size - 2, sy); ctx.closePath(); }
      else ctx.arc(sx, sy, size, 0, 2 * Math.PI);
      ctx.stroke();
      if (label) { ctx.fillStyle = color; ctx.font = "bold 12px system-ui"; ctx.fillText(label, sx + size + 3, sy - size); }
    }
    if (this.hovered >= 0) {
      const [sx, sy] = this.toScreen(this.hovered);
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
      ctx.strokeRect(sx - size, sy - size, 2 * size, 2 * size);
    }
  }

  drawBox() {
    const { x0, y0, x1, y1 } = this.box;
    this.ctx.strokeStyle = "#ffffff";
    this.ctx.setLineDash([4, 3]);
    this.ctx.lineWidth = 1;
    this.ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    this.ctx.setLineDash([]);
  }

  /** Indices of the (visible) points inside the screen rectangle of the box. */
  inside({ x0, y0, x1, y1 }) {
    const [ax, ay] = this.toWorld(Math.min(x0, x1), Math.max(y0, y1));
    const [bx, by] = this.toWorld(Math.max(x0, x1), Math.min(y0, y1));
    const { x, y, count } = this.points;
    const out = [];
    for (let i = 0; i < count; i++) {
      if (this.visible && !this.visible[i]) continue;
      if (x[i] >= ax && x[i] <= bx && y[i] >= ay && y[i] <= by) out.push(i);
    }
    return out;
  }

  // ---------------------------------------------------------------- interaction

  listen() {
    const canvas = this.canvas;
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: 0, box: e.altKey };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      const rect = canvas.getBoundingClientRect();
      if (drag?.box) { // alt+drag: a selection box, from where the drag began
        const x0 = this.box?.x0 ?? drag.x - rect.left, y0 = this.box?.y0 ?? drag.y - rect.top;
        this.box = { x0, y0, x1: e.clientX - rect.left, y1: e.clientY - rect.top };
        this.draw();
        return;
      }
      if (drag) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        drag.moved += Math.abs(dx) + Math.abs(dy);
        drag.x = e.clientX; drag.y = e.clientY;
        if (drag.moved > 3) { this.panBy(dx, dy); return; }
      }
      const i = this.pick(e.clientX - rect.left, e.clientY - rect.top);
      if (i !== this.hovered) {
        this.hovered = i;
        this.draw();
        this.dispatchEvent(new CustomEvent("hover", { detail: { index: i } }));
      }
      if (i < 0) { // empty map space: where it is in data units, to decode there
        const [wx, wy] = this.toWorld(e.clientX - rect.left, e.clientY - rect.top);
        this.dispatchEvent(new CustomEvent("hoverempty", { detail: { x: wx, y: wy } }));
      }
    });
    canvas.addEventListener("pointerup", (e) => {
      const rect = canvas.getBoundingClientRect();
      if (drag?.box) { // a box (or an alt-click: an empty selection)
        const indices = this.box ? this.inside(this.box) : [];
        this.box = null;
        drag = null;
        this.draw();
        this.dispatchEvent(new CustomEvent("select", { detail: { indices } }));
        return;
      }
      if (drag && drag.moved <= 3 && e.button === 0) {
        const i = this.pick(e.clientX - rect.left, e.clientY - rect.top);
        if (i >= 0) this.dispatchEvent(new CustomEvent("pick", { detail: { index: i, shift: e.shiftKey } }));
      }
      drag = null;
    });
    canvas.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const i = this.pick(e.clientX - rect.left, e.clientY - rect.top);
      if (i >= 0) this.dispatchEvent(new CustomEvent("pick", { detail: { index: i, shift: true } }));
    });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      this.zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });
  }
}
