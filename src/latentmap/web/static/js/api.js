// Thin request helpers: JSON in/out, errors surface the server's one-line message. Requests
// go over `fetch` on the page; the notebook widget hands its explorer the kernel channel
// (same routes, same answers, as Response objects), so every module runs unchanged in both.

/**
 * Request helpers over `transport(url, init)` (a `fetch`, or the widget's kernel channel):
 * each explorer makes its own, so nothing here is shared between two of them.
 */
export function connect(transport = (url, init) => fetch(url, init)) {
  const request = (url, init = {}) => transport(url, init);

  async function getJSON(url) {
    const response = await request(url);
    if (!response.ok) throw new Error((await response.json()).detail ?? response.statusText);
    return response.json();
  }

  async function postJSON(url, body) {
    const response = await request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) {
      const detail = Array.isArray(data.detail)
        ? data.detail.map((d) => `${d.loc?.at(-1) ?? "request"}: ${d.msg}`).join("; ")
        : data.detail;
      throw new Error(detail ?? response.statusText);
    }
    return data;
  }

  async function getBytes(url) {
    const response = await request(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.arrayBuffer();
  }

  /** The image at `url`, decoded off the main thread (an ImageBitmap): drawing a freshly
   * loaded <img> decodes it synchronously inside the frame, which took seconds when a zoom
   * first touched dozens of 330k-point atlases. */
  async function loadImage(url) {
    const response = await request(url);
    if (!response.ok) throw new Error(`cannot load ${url}: ${response.status}`);
    return createImageBitmap(await response.blob());
  }

  return { request, getJSON, postJSON, getBytes, loadImage };
}

// The pages that run once per document (the typeface mode, the clustering app) use `fetch`.
export const pageApi = connect();
export const { request, getJSON, postJSON, getBytes, loadImage } = pageApi;

/**
 * `task(...args)` (returning a promise) with one call in flight: calls made meanwhile are
 * dropped but the latest, which runs when the current one ends (hover requests that keep up
 * with the mouse without piling up).
 */
export function latestOnly(task) {
  let running = null, next = null;
  const run = (...args) => {
    next = args;
    if (running) return;
    const now = next;
    next = null;
    running = Promise.resolve(task(...now)).catch(() => {}).finally(() => { running = null; if (next) run(...next); });
  };
  return run;
}

// Data (names from disk, server messages) is always set as text, never parsed as markup:
// a font file named `<img onerror=…>.ttf` must stay a name.
export function textNode(tag, text, className = "") {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function showError(target, message) {
  target.replaceChildren(textNode("span", message, "error"));
}
