// Image grids from the API ({rows, cols, size, pixels: base64 uint8, verdicts?}) as rows of
// canvases, each generated cell marked with the judge's verdict.

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

function verdictCell(canvas, verdict, names) {
  const cell = document.createElement("span");
  cell.className = "judged";
  const mark = document.createElement("b");
  mark.className = verdict.valid ? "verdict valid" : "verdict invalid";
  mark.textContent = `${verdict.valid ? "✓" : "✗"}${names[verdict.label] ?? verdict.label}`;
  cell.title = verdict.top.map(([c, p]) => `${names[c] ?? c}: ${(100 * p).toFixed(1)}%`).join("\n");
  cell.append(canvas, mark);
  return cell;
}

/**
 * Append one section to `container`: an optional title, column headings, and a row per grid
 * row. `originals` columns are real images (framed, not judged); `rowLabels` name the rows;
 * `gaps[r] === false` leaves row r empty (a typeface lacks that character).
 */
export function renderGrid(container, { grid, title, headings, originals, rowLabels, gaps }, names) {
  const bytes = decodePixels(grid);
  const { rows, cols, size, verdicts } = grid;
  const section = document.createElement("div");
  section.className = "section";
  if (title) {
    const h = document.createElement("div");
    h.className = "section-title";
    h.textContent = title;
    section.append(h);
  }
  const head = document.createElement("div");
  head.className = "row heading";
  for (const h of [...(rowLabels ? [""] : []), ...headings]) {
    const span = document.createElement("span");
    span.textContent = h;
    head.append(span);
  }
  section.append(head);
  for (let r = 0; r < rows; r++) {
    const row = document.createElement("div");
    row.className = "row";
    if (rowLabels) {
      const label = document.createElement("span");
      label.className = "row-label";
      label.textContent = rowLabels[r];
      row.append(label);
    }
    let judged = 0, valid = 0;
    for (let c = 0; c < cols; c++) {
      const original = originals.includes(c);
      const canvas = imageCanvas(bytes, (r * cols + c) * size * size, size, original ? "cell original" : "cell");
      if (gaps && !gaps[r]) canvas.classList.add("gap");
      const verdict = verdicts?.[r]?.[c];
      if (verdict && !original && !(gaps && !gaps[r])) {
        judged++;
        valid += verdict.valid ? 1 : 0;
        row.append(verdictCell(canvas, verdict, names));
      } else {
        row.append(canvas);
      }
    }
    if (judged) {
      const count = document.createElement("span");
      count.className = "valid-count";
      count.textContent = `${valid}/${judged} valid`;
      row.append(count);
    }
    section.append(row);
  }
  container.append(section);
}

/** The grids in `container` as one PNG (data URL): every row's canvases side by side. */
export function gridPNG(container) {
  const rows = [...container.querySelectorAll(".row:not(.heading)")].map((r) => [...r.querySelectorAll("canvas")]);
  const cell = 28, gap = 2;
  const width = Math.max(1, ...rows.map((r) => r.length)) * (cell + gap);
  const out = document.createElement("canvas");
  out.width = width;
  out.height = Math.max(1, rows.length) * (cell + gap);
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#0f1318";
  ctx.fillRect(0, 0, out.width, out.height);
  rows.forEach((canvases, r) => canvases.forEach((c, k) => ctx.drawImage(c, k * (cell + gap), r * (cell + gap))));
  return out.toDataURL("image/png");
}
