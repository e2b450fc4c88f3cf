// The Jobs view's frames: for a job whose tasks collect images (a render), a
// grid of the shown page's tasks, each frame a thumbnail framed in its
// task's state colour (waiting, running, done, failed); a click shows the
// task's log and the full frame. A contact sheet lays every frame of the job
// out small, in file order. Thumbnails are the scheduler's (GET
// /v1/blobs/SHA/thumb, made by ffmpeg); images come with the bearer token,
// so they are fetched and shown through object URLs, never by a plain src.
// Kept apart from jobs.js (which calls initFrames, renderFrames, resetFrames).

const IMAGE = /\.(png|jpe?g|exr|tiff?)$/i;

let outputs = [];          // the open job's image outputs, path order
let outputsKey = "";       // job id/committed/failed when fetched: fetched again when it changes
const thumbs = new Map();  // sha -> object URL (or "" while loading, "!" when refused)
let full = null;           // the object URL of the full frame shown
let sheetOpen = false;

const $ = (id) => document.getElementById(id);

export function resetFrames() {
  outputs = [];
  outputsKey = "";
  sheetOpen = false;
  closeFull();
  $("job-frames").hidden = true;
  $("contact-sheet").hidden = true;
  $("contact-sheet-button").textContent = "Contact sheet";
}

async function fetchBlob(ctx, path) {
  const headers = {};
  if (ctx.token()) headers["Authorization"] = "Bearer " + ctx.token();
  const res = await fetch(path, { headers });
  if (!res.ok) {
    let why = res.status + "";
    try { why = (await res.json()).error || why; } catch { /* the status alone */ }
    throw new Error(why);
  }
  return URL.createObjectURL(await res.blob());
}

function thumbInto(ctx, img, sha) {
  img.dataset.sha = sha;
  const have = thumbs.get(sha);
  if (have === "!") img.alt = "no preview";
  else if (have) img.src = have;
  if (have !== undefined) return;  // shown, refused, or loading (filled when it arrives)
  thumbs.set(sha, "");
  fetchBlob(ctx, `v1/blobs/${sha}/thumb`).then((url) => {
    thumbs.set(sha, url);
    for (const i of document.querySelectorAll(`img[data-sha="${sha}"]`)) i.src = url;
  }, (e) => {
    thumbs.set(sha, "!");
    for (const i of document.querySelectorAll(`img[data-sha="${sha}"]`)) { i.alt = "no preview"; i.title = e.message; }
  });
}

function closeFull() {
  if (full) URL.revokeObjectURL(full);
  full = null;
  $("frame-view").hidden = true;
  $("frame-full-box").replaceChildren();
}

async function showFull(ctx, o) {
  closeFull();
  $("frame-view-title").textContent = o.path;
  // Made here, not in the page: the page's markup holds no image of its own.
  const img = ctx.el("img", { id: "frame-full", "data-testid": "frame-full", class: "frame-full", alt: "" });
  $("frame-full-box").replaceChildren(img);
  $("frame-view").hidden = false;
  try {
    full = await fetchBlob(ctx, `v1/blobs/${o.sha256}`);
    img.src = full;
    img.alt = o.path;
  } catch (e) {
    img.alt = "cannot load " + o.path + ": " + e.message;
  }
}

function cell(ctx, t, o, terms, showLog) {
  const el = ctx.el;
  const img = el("img", { "data-testid": "frame-thumb", alt: "" });
  const b = el("button", { type: "button", class: "frame-cell st-" + t.state, "data-testid": "frame-cell",
    "data-task": String(t.task), "data-state": t.state, title: `${terms}: ${t.state}` },
    o ? img : el("span", { class: "frame-empty", text: t.state }),
    el("span", { class: "frame-name", text: o ? o.path.split("/").pop() : terms }));
  if (o) thumbInto(ctx, img, o.sha256);
  b.addEventListener("click", () => {
    if (t.attempts && t.state !== "running") showLog(t.task, false);
    if (o) showFull(ctx, o);
  });
  return b;
}

function renderSheet(ctx) {
  const el = ctx.el;
  $("contact-sheet").replaceChildren(...outputs.map((o) => {
    const img = el("img", { "data-testid": "contact-thumb", alt: o.path });
    thumbInto(ctx, img, o.sha256);
    return el("figure", { class: "contact-item", "data-testid": "contact-item" }, img,
      el("figcaption", { text: o.path.split("/").pop() }));
  }));
}

// job: its GET /v1/jobs/ID; tasks: the page shown; terms(t): the task in the
// user's words; showLog(task, scroll): jobs.js's.
export async function renderFrames(ctx, job, tasks, terms, showLog) {
  const key = `${job.id}/${job.committed}/${job.failed}`;
  if (key !== outputsKey) {
    const r = await ctx.api(`v1/jobs/${encodeURIComponent(job.id)}/outputs`);
    if (r.status !== 200) return;  // the tasks table still says everything
    outputsKey = key;
    outputs = (r.json.outputs || []).filter((o) => IMAGE.test(o.path))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  // Not a job of images (yet): no grid. A render's first frames show it.
  if (!outputs.length) {
    $("job-frames").hidden = true;
    return;
  }
  const byTask = new Map();
  for (const o of outputs) {
    if (!byTask.has(o.task)) byTask.set(o.task, []);
    byTask.get(o.task).push(o);
  }
  const cells = [];
  for (const t of tasks) {
    const mine = byTask.get(t.task) || [];
    if (!mine.length) cells.push(cell(ctx, t, null, terms(t), showLog));
    for (const o of mine) cells.push(cell(ctx, t, o, terms(t), showLog));
  }
  $("frames-grid").replaceChildren(...cells);
  $("frames-count").textContent = `${outputs.length} image${outputs.length === 1 ? "" : "s"}`;
  $("job-frames").hidden = false;
  if (sheetOpen) renderSheet(ctx);
}

// getCtx(): jobs.js's current ctx (app.js's API call, element builder, token).
export function initFrames(getCtx) {
  $("contact-sheet-button").onclick = () => {
    sheetOpen = !sheetOpen;
    $("contact-sheet").hidden = !sheetOpen;
    $("contact-sheet-button").textContent = sheetOpen ? "Hide contact sheet" : "Contact sheet";
    if (sheetOpen) renderSheet(getCtx());
  };
  $("frame-view-close").onclick = closeFull;
}
