// Image grids from the API ({rows, cols, size, pixels: base64 uint8}) as rows of canvases.

export function decodePixels(grid) {
  const raw = atob(grid.pixels);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export function imageCanvas(bytes, offset, size, className = "cell") {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  canvas.className = className;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    const v = bytes[offset + p];
    image.data.set([v, v, v, 255], p * 4);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/** Fill `container` with the grid; `originalColumns` get a frame; `headings` label columns. */
export function renderGrid(container, grid, headings, originalColumns) {
  const bytes = decodePixels(grid);
  const { rows, cols, size } = grid;
  container.replaceChildren();
  const head = document.createElement("div");
  head.className = "row heading";
  for (const h of headings) {
    const span = document.createElement("span");
    span.textContent = h;
    head.append(span);
  }
  container.append(head);
  for (let r = 0; r < rows; r++) {
    const row = document.createElement("div");
    row.className = "row";
    for (let c = 0; c < cols; c++) {
      const cls = originalColumns.includes(c) ? "cell original" : "cell";
      row.append(imageCanvas(bytes, (r * cols + c) * size * size, size, cls));
    }
    container.append(row);
  }
}
