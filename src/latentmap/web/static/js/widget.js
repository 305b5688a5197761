// The explorer in a notebook output cell (anywidget). The kernel sends the page's own modules
// as text; they are linked here through blob URLs (revoked with the view) and run in a shadow
// root holding the page's markup and style; each view's explorer keeps its own state. Requests go to
// the kernel over the widget's channel and come back as Response objects, so the modules
// cannot tell the kernel from the server.

function link(sources) {
  const urls = {};
  const visit = (name, trail = []) => {
    if (urls[name]) return urls[name];
    if (trail.includes(name)) throw new Error(`import cycle: ${[...trail, name].join(" -> ")}`);
    const text = sources[name].replace(/from\s+"\.\/([\w.-]+\.js)"/g,
      (_, dep) => `from "${visit(dep, [...trail, name])}"`);
    urls[name] = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
    return urls[name];
  };
  Object.keys(sources).forEach((name) => visit(name));
  return urls;
}

function channel(model) {
  const pending = new Map();
  let next = 0;
  const listener = (message, buffers) => {
    if (message?.type !== "response" || !pending.has(message.id)) return;
    const resolve = pending.get(message.id);
    pending.delete(message.id);
    const view = buffers?.[0];
    const body = view ? view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) : null;
    const empty = message.status === 204 || message.status === 304;
    resolve(new Response(empty ? null : body, { status: message.status, headers: { "Content-Type": message.content_type } }));
  };
  model.on("msg:custom", listener);
  const send = (url, init = {}) => new Promise((resolve) => {
    const id = ++next;
    pending.set(id, resolve);
    model.send({ type: "request", id, url, method: init.method ?? "GET", body: init.body ?? null });
  });
  return { send, close: () => model.off("msg:custom", listener) };
}

async function render({ model, el }) {
  el.classList.add("latentmap-widget");
  el.tabIndex = 0; // key presses (space, F, C, Esc) reach the explorer when it has focus
  el.dataset.lmSuppressShortcuts = "true"; // ... and not JupyterLab's command shortcuts
  el.style.display = "block";
  el.style.height = `${model.get("height")}px`;
  const shadow = el.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  // The header may wrap in a narrow cell: the layout takes what is left of the height, so the
  // side panel (and its legend) scrolls inside the cell instead of being cut off below it.
  style.textContent = model.get("_style") + "\n:host { display: block; overflow: hidden; }" +
    "\n.layout { height: auto; flex: 1 1 auto; min-height: 0; }";
  const page = document.createElement("div");
  Object.assign(page.style, { height: "100%", display: "flex", flexDirection: "column" });
  page.innerHTML = model.get("_markup"); // the package's own static page, not data
  shadow.append(style, page);

  const urls = link(model.get("_modules"));
  const kernel = channel(model);
  const { startExplorer } = await import(urls["explorer.js"]);

  let fromView = false; // a pick made on the map: the model change it causes is not applied back
  const view = new URLSearchParams({ e: model.get("experiment") });
  const explorer = startExplorer(shadow, {
    readView: () => view,
    saveView: () => {},
    picked({ experiment, picks, target, b }) {
      // One key at a time: the object form set({...}) is Backbone's, which only ipywidgets
      // accepts; anywidget's model in marimo (and elsewhere) takes set(key, value).
      fromView = true;
      model.set("picks", picks);
      model.set("target", target);
      model.set("b", b);
      model.set("experiment", experiment);
      model.save_changes();
      fromView = false;
    },
    selected(rows) {
      model.set("selection", rows);
      model.save_changes();
    },
    keys: el,
    transport: kernel.send,
  });
  const follow = () => { if (!fromView) explorer.setPicks(model.get("picks"), model.get("target"), model.get("b")); };
  model.on("change:picks", follow);
  model.on("change:target", follow);
  model.on("change:b", follow);
  el.explorer = explorer; // for tests and the console
  await explorer.ready;
  if (model.get("picks").length) follow(); // picks set before the view opened
  return () => {
    kernel.close();
    model.off("change:picks", follow);
    model.off("change:target", follow);
    model.off("change:b", follow);
    Object.values(urls).forEach((url) => URL.revokeObjectURL(url));
  };
}

export default { render };
