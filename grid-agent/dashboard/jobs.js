// The Jobs view: shown when the page is served by `hearth serve` (GET
// /v1/health says "scheduler"), over its /v1/jobs API (hearth-api(7)).
// Every job the token may see, its progress; a job's tasks in the user's own
// terms (frames 21-22, not task 10), a task's log, and Cancel.
//
// Live by polling, not the events stream: EventSource cannot send the bearer
// token, and the scheduler holds at most 16 streams for everyone, so a page
// left open in a tab must not keep one.
// Every value from the server goes in with textContent, never as HTML.

import { initFrames, renderFrames, resetFrames } from "./frames.js";
import { refreshGridOverview } from "./overview.js";

const LIST_MS = 5000;    // the job list
const DETAIL_MS = 2000;  // the open job and its page of tasks
const PAGE = 100;        // tasks a page (the API's default)
const FINAL = new Set(["finished", "failed", "cancelled"]);
const STATES = ["queued", "running", "finished", "failed", "cancelled"];

let ctx = null;       // {api, token, el, errorText, showError, me}
let timer = null;
let openJob = null;   // the id whose detail is shown
let job = null;       // its last GET /v1/jobs/ID
let from = 0;         // the first task of the page shown
let logTask = null;   // the task whose log is shown
let logSeen = "";     // its state and attempts when fetched: fetched again when they change
let busy = false;     // a refresh is under way: the timer skips a turn

const $ = (id) => document.getElementById(id);
const isNum = (v) => typeof v === "number" && Number.isFinite(v);

export function stopJobs() {
  clearInterval(timer);
  timer = null;
  openJob = null;
  for (const id of ["jobs-view", "jobs-note"]) $(id).hidden = true;
}

// c: what app.js shares (its API call, element builder and error line).
export async function startJobs(c) {
  stopJobs();
  ctx = c;
  initFrames(() => ctx);
  $("jobs-view").hidden = false;
  const wanted = decodeURIComponent((location.hash.match(/^#job\/(.+)$/) || [])[1] || "");
  if (wanted) await openDetail(wanted);
  else await refreshList();
  if (!$("jobs-view").hidden) timer = setInterval(tick, 1000);
}

let last = 0;
async function tick() {
  const every = openJob ? DETAIL_MS : LIST_MS;
  if (busy || Date.now() - last < every - 100) return;
  busy = true;
  try {
    if (openJob) await refreshDetail();
    else await refreshList();
  } finally {
    busy = false;
  }
}

// ---- words -----------------------------------------------------------------

// The job's own unit: frames 21-22, seed 7, items a.pov ... c.pov.
function unitOf(split) {
  return split === "frames" ? ["frame", "frames"] : split === "seeds" ? ["seed", "seeds"] : ["item", "items"];
}

export function taskTerms(split, first, last) {
  const [one, many] = unitOf(split);
  if (first === last) return one + " " + first;
  // Items are names (they may hold '-'); frames and seeds are numbers.
  const sep = split === "items" ? " \u2026 " : "-";
  return many + " " + first + sep + last;
}

function workText(j) {
  const [, many] = unitOf(j.split);
  const what = j.split === "count" ? j.split_text + " items" : j.split === "items" ? "items file" : many + " " + j.split_text;
  return what + (j.chunk > 1 ? " in tasks of " + j.chunk : "");
}

function when(ms) {
  return isNum(ms) && ms > 0 ? new Date(ms).toLocaleString() : "\u2013";
}

function took(j) {
  if (!(j.started_ms > 0)) return "\u2013";
  const s = ((j.finished_ms > 0 ? j.finished_ms : Date.now()) - j.started_ms) / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  const m = Math.round(s / 60);
  return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
}

function progressText(j) {
  const parts = [`${j.committed} / ${j.total} done`];
  if (j.failed) parts.push(`${j.failed} failed`);
  if (j.running) parts.push(`${j.running} running`);
  return parts.join(" \u00b7 ");
}

// A bar of done (green), failed (red) and running (blue) tasks.
function progressBar(j) {
  const el = ctx.el;
  const bar = el("div", { class: "progress", title: progressText(j) });
  const total = Math.max(1, j.total);
  for (const [cls, n] of [["done", j.committed], ["failed", j.failed], ["running", j.running]]) {
    const seg = el("div", { class: cls });
    seg.style.width = (Math.min(n, total) / total) * 100 + "%";
    bar.append(seg);
  }
  return bar;
}

function setJobError(text) {
  $("job-error").textContent = text || "";
  $("job-error").hidden = !text;
}

// ---- the list --------------------------------------------------------------

// listError: a job that would not open, said above the list until another opens.
let listError = "";
async function refreshList() {
  last = Date.now();
  const r = await ctx.api("v1/jobs");
  if (r.status === 403) {
    // A facility (or a site) token: the scheduler shows it no jobs.
    stopJobs();
    const note = $("jobs-note");
    note.textContent = "This token (" + (ctx.me.role || ctx.me.kind) + ") may not see jobs: the scheduler shows " +
      "tenants their own jobs and operators every job. Heat and sites are on the agents' dashboard " +
      "(grid-agent, or hearth dashboard). The scheduler said: " + ctx.errorText(r);
    note.hidden = false;
    return;
  }
  if (r.status !== 200) {
    ctx.showError("jobs: " + ctx.errorText(r));
    return;
  }
  ctx.showError(listError);
  const jobs = (Array.isArray(r.json.jobs) ? r.json.jobs : []).slice()
    .sort((a, b) => (b.submitted_ms || 0) - (a.submitted_ms || 0));
  $("jobs-refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  $("jobs-list").hidden = false;
  $("job-detail").hidden = true;
  renderOverview(jobs);
  renderList(jobs);
}

function renderList(jobs) {
  const el = ctx.el;
  const body = $("jobs-table").tBodies[0];
  body.replaceChildren();
  for (const j of jobs) {
    const row = el("tr", { class: "job-row", tabindex: "0", "data-testid": "job-row", "data-job": j.id, "data-state": j.state },
      el("td", {}, el("span", { class: "job-id", text: j.id }), j.name ? el("div", { class: "hint", text: j.name }) : ""),
      el("td", { text: j.tenant }),
      el("td", { class: "state-" + j.state, "data-testid": "job-state", text: jobStateText(j) }),
      el("td", { "data-testid": "job-progress" }, progressBar(j), el("span", { class: "hint", text: progressText(j) })),
      el("td", { text: workText(j) }),
      el("td", { text: when(j.submitted_ms) }));
    row.addEventListener("click", () => openDetail(j.id));
    row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") openDetail(j.id); });
    body.append(row);
  }
  if (!jobs.length)
    body.append(el("tr", {}, el("td", { colspan: "6", class: "hint", text: "no jobs yet: hearth submit queues one" })));
}

// An operator's overview: jobs per state and per tenant, tasks running now,
// from the list itself (the jobs the API answers, at most its limit).
function renderOverview(jobs) {
  refreshGridOverview(ctx);
  const box = $("jobs-overview");
  box.hidden = ctx.me.kind !== "operator";
  if (box.hidden) return;
  const el = ctx.el;
  const byState = Object.fromEntries(STATES.map((s) => [s, 0]));
  const tenants = new Map();
  let running = 0;
  for (const j of jobs) {
    byState[j.state] = (byState[j.state] || 0) + 1;
    const t = tenants.get(j.tenant) || { jobs: 0, active: 0, running: 0 };
    t.jobs++;
    if (!FINAL.has(j.state)) t.active++;
    t.running += j.running || 0;
    tenants.set(j.tenant, t);
    running += j.running || 0;
  }
  const facts = el("dl", { class: "facts" },
    ...STATES.map((s) => el("div", {}, el("dt", { text: s }), el("dd", { class: "state-" + s, "data-testid": "count-" + s, text: String(byState[s]) }))),
    el("div", {}, el("dt", { text: "tasks running now" }), el("dd", { "data-testid": "tasks-running-now", text: String(running) })));
  const table = el("table", { "data-testid": "tenant-table" },
    el("thead", {}, el("tr", {}, el("th", { text: "Tenant" }), el("th", { text: "Jobs" }),
      el("th", { text: "Queued or running" }), el("th", { text: "Tasks running now" }))));
  const tb = el("tbody");
  for (const [name, t] of [...tenants].sort((a, b) => b[1].running - a[1].running || a[0].localeCompare(b[0])))
    tb.append(el("tr", { "data-testid": "tenant-row" }, el("td", { text: name }), el("td", { class: "num", text: String(t.jobs) }),
      el("td", { class: "num", text: String(t.active) }), el("td", { class: "num", text: String(t.running) })));
  table.append(tb);
  // GET /v1/jobs answers at most 1000 (its default limit): say so when hit.
  const capped = jobs.length >= 1000 ? [el("p", { class: "hint", text: "counts of the newest 1000 jobs" })] : [];
  box.replaceChildren(el("h3", { text: "Overview" }), facts, table, ...capped);
}

// ---- one job ---------------------------------------------------------------

async function openDetail(id) {
  listError = "";
  openJob = id;
  job = null;
  from = 0;
  logTask = null;
  $("task-log-box").hidden = true;
  resetFrames();
  setJobError("");
  history.replaceState(null, "", "#job/" + encodeURIComponent(id));
  await refreshDetail();
}

function closeDetail(error = "") {
  listError = error;
  openJob = null;
  history.replaceState(null, "", location.pathname + location.search);
  $("job-detail").hidden = true;
  refreshList();
}

async function refreshDetail() {
  last = Date.now();
  const id = openJob;
  const path = "v1/jobs/" + encodeURIComponent(id);
  const [jr, tr] = await Promise.all([ctx.api(path), ctx.api(`${path}/tasks?from=${from}&limit=${PAGE}`)]);
  if (id !== openJob) return;  // closed or another opened meanwhile
  if (jr.status !== 200) {
    // 404: gone, or another tenant's (the scheduler does not say which).
    closeDetail("job " + id + ": " + ctx.errorText(jr));
    return;
  }
  ctx.showError("");
  job = jr.json;
  $("jobs-list").hidden = true;
  $("job-detail").hidden = false;
  renderJob();
  const tasks = tr.status === 200 && Array.isArray(tr.json.tasks) ? tr.json.tasks : [];
  if (tr.status === 200) renderTasks(tasks);
  else setJobError("tasks: " + ctx.errorText(tr));
  if (tr.status === 200) await renderFrames(ctx, job, tasks, (t) => taskTerms(job.split, t.first, t.last), showLog);
  if (id !== openJob) return;
  // A log arrives with its attempt's result (up to 1 MiB): fetched again
  // only when the task's state or attempts changed, not every poll.
  const shown = tasks.find((t) => t.task === logTask);
  if (shown && seen(shown) !== logSeen) await showLog(logTask, false);
}

// A job whose queued tasks no node's heat budget lets start says so: the
// scheduler counts them (waiting_for_heat, hearth-api(7)).
const jobStateText = (j) => j.state + (j.waiting_for_heat > 0 ? ", " + j.waiting_for_heat + " waiting for heat" : "");

function renderJob() {
  const el = ctx.el, j = job;
  $("job-title").textContent = "Job " + j.id + (j.name ? " \u2013 " + j.name : "");
  const fact = (dt, dd, testid) => el("div", {}, el("dt", { text: dt }), el("dd", testid ? { "data-testid": testid, text: dd } : { text: dd }));
  const state = fact("State", jobStateText(j) + (j.urgent ? " (urgent)" : ""), "job-detail-state");
  state.lastChild.className = "state-" + j.state;
  const kwh = (Number(j.energy_uj) || 0) / 3.6e12;
  $("job-facts").replaceChildren(
    state,
    fact("Tenant", j.tenant),
    fact("Work", workText(j)),
    fact("Submitted", when(j.submitted_ms)),
    fact(FINAL.has(j.state) ? "Ran for" : "Running for", took(j)),
    fact("Energy", (kwh === 0 ? "0" : Number(kwh.toPrecision(3)).toString()) + " kWh" + (j.energy_estimated ? " (estimated)" : "")),
    ...(j.deadline_ms > 0 ? [fact("Deadline", when(j.deadline_ms))] : []));
  // Cancelling stops a site's attempts when that site next asks for work.
  const stopping = j.state === "cancelled" && j.running > 0 ? " (being stopped at their sites)" : "";
  $("job-bar").replaceChildren(progressBar(j),
    el("span", { "data-testid": "job-detail-progress", text: progressText(j) + stopping }));
  $("job-command").textContent = (j.command || []).join(" ");
  // Whoever sees a job may cancel it (its tenant, or an operator); the
  // scheduler decides, and its refusal is shown.
  $("job-cancel").hidden = FINAL.has(j.state);
  $("job-resume").hidden = !(j.state === "cancelled" || (j.state === "failed" && j.failed > 0));
}

function renderTasks(tasks) {
  const el = ctx.el, j = job;
  const [, many] = unitOf(j.split);
  $("tasks-unit").textContent = many[0].toUpperCase() + many.slice(1);
  const to = Math.min(j.total, from + PAGE);
  $("tasks-range").textContent = j.total ? `${from + 1}-${to} of ${j.total}` : "none";
  $("tasks-prev").disabled = from === 0;
  $("tasks-next").disabled = to >= j.total;
  $("tasks-pager").hidden = j.total <= PAGE;
  const body = $("tasks-table").tBodies[0];
  body.replaceChildren();
  for (const t of tasks) {
    const terms = taskTerms(j.split, t.first, t.last);
    const where = t.node ? (t.site ? t.site + " / " : "") + t.node : "\u2013";
    // The API's "exit" is the last attempt's; a reason says more when there is one.
    const outcome = t.reason || (t.attempts && t.state !== "running" && isNum(t.exit) && t.exit !== 0 ? "exit " + t.exit : "");
    const log = el("button", { type: "button", "data-testid": "task-log-button", text: "Log" });
    // A log comes back with its attempt's result: none while it runs.
    log.disabled = !t.attempts || t.state === "running";
    log.title = !t.attempts ? "not started yet" : t.state === "running" ? "its log comes back when it ends"
      : "the output of its last attempt";
    log.addEventListener("click", () => showLog(t.task, true));
    body.append(el("tr", { "data-testid": "task-row", "data-task": String(t.task), "data-state": t.state, "data-seen": seen(t) },
      el("td", { "data-testid": "task-terms", text: terms }),
      el("td", { class: "state-" + t.state, "data-testid": "task-state", text: t.state.replace(/_/g, " ") }),
      el("td", { class: "num", text: String(t.attempts) }),
      el("td", { text: where }),
      el("td", { class: "num", text: t.wall_ms ? (t.wall_ms / 1000).toFixed(t.wall_ms < 10000 ? 2 : 0) + " s" : "\u2013" }),
      el("td", { text: outcome }),
      el("td", {}, log)));
  }
}

// GET .../tasks/N/log is text, not JSON.
const seen = (t) => t.state + "/" + t.attempts;

async function showLog(task, scroll) {
  logTask = task;
  const row = document.querySelector(`[data-testid=task-row][data-task="${task}"]`);
  logSeen = row ? row.dataset.seen : "";
  const id = openJob;
  const headers = {};
  if (ctx.token()) headers["Authorization"] = "Bearer " + ctx.token();
  let text, ok = false;
  try {
    const res = await fetch(`v1/jobs/${encodeURIComponent(id)}/tasks/${task}/log`, { headers, cache: "no-store" });
    text = await res.text();
    ok = res.ok;
    if (!ok) {
      try { text = JSON.parse(text).error || text; } catch { /* the body as it came */ }
    }
  } catch (e) {
    text = "cannot reach the server (" + e.message + ")";
  }
  if (id !== openJob || logTask !== task) return;
  const terms = row && row.querySelector("[data-testid=task-terms]");
  $("task-log-title").textContent = "Log of " + (terms ? terms.textContent : "task " + task);
  const pre = $("task-log");
  pre.textContent = ok ? (text || "(empty)") : "no log: " + text;
  pre.className = ok ? "" : "error";
  $("task-log-box").hidden = false;
  if (scroll) $("task-log-box").scrollIntoView({ block: "nearest" });
}

async function act(what) {
  setJobError("");
  if (what === "cancel" && !window.confirm(`Cancel job ${openJob}? Its running tasks are stopped.`)) return;
  const r = await ctx.api(`v1/jobs/${encodeURIComponent(openJob)}/${what}`, {});
  if (r.status !== 200) {
    setJobError(`${what}: ${ctx.errorText(r)}`);
    return;
  }
  await refreshDetail();
}

$("jobs-back").addEventListener("click", () => closeDetail());
$("job-cancel").addEventListener("click", () => act("cancel"));
$("job-resume").addEventListener("click", () => act("resume"));
$("task-log-close").addEventListener("click", () => { logTask = null; $("task-log-box").hidden = true; });
$("tasks-prev").addEventListener("click", () => { from = Math.max(0, from - PAGE); refreshDetail(); });
$("tasks-next").addEventListener("click", () => { from += PAGE; refreshDetail(); });
