// Hearth dashboard: talks to the JSON API of the server that serves it (a
// grid-agent for its own site, or `hearth dashboard` for a whole grid file)
// with the bearer token pasted in the token box. No library and nothing
// fetched from elsewhere: it must work on a plant-room network with no
// internet. Every value from the server is put in with textContent, never
// parsed as HTML. Served by `hearth serve`, it shows that scheduler's jobs
// instead (jobs.js).

import { startJobs, stopJobs } from "./jobs.js";

const TOKEN_KEY = "hearth.token";
const REFRESH_MS = 10000;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

let me = null;        // GET /v1/whoami
let grid = null;      // the last GET /v1/grid
let openSite = null;  // the site whose detail is shown
let formSite = null;  // the site the target form was last filled for
let timer = null;
let historySpan = "24h";  // the chart's span: "24h" or "7d"
let tried = null;         // the last proposal tried: { site, what, value, text }

// ---- talking to the server -------------------------------------------------

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

// Relative paths: the page works wherever the server mounts it.
async function api(path, body) {
  const headers = {};
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  const opts = { headers, cache: "no-store" };
  if (body !== undefined) {
    opts.method = "POST";
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    return { status: 0, json: { error: "cannot reach the server (" + e.message + "); is it running?" } };
  }
  let json;
  try {
    json = await res.json();
  } catch {
    json = { error: "the server answered HTTP " + res.status + " without JSON" };
  }
  return { status: res.status, json };
}

function errorText(r) {
  return (r.json && typeof r.json.error === "string") ? r.json.error : "HTTP " + r.status;
}

// ---- small helpers ---------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const celsius = (v) => (isNum(v) ? v.toFixed(1) + " \u00b0C" : "\u2013");
const watts = (v) => (isNum(v) ? Math.round(v) + " W" : "\u2013");
const kwh = (v) => (isNum(v) ? (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v >= 0.01 || v === 0 ? v.toFixed(3)
                                 : Number(v.toPrecision(2)).toString()) + " kWh" : "\u2013");

// Tenants' figures can be tiny (a test job burns millijoules of a kWh):
// three significant digits, never rounded to zero.
function kwhPrecise(v) {
  if (!isNum(v)) return "\u2013";
  if (v === 0) return "0 kWh";
  return (v >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString()) + " kWh";
}

function duration(s) {
  if (!isNum(s)) return "\u2013";
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  const m = Math.round(s / 60);
  if (m < 60) return m + " min";
  return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
}

function showError(text) {
  const p = $("page-error");
  p.textContent = text || "";
  p.hidden = !text;
}

function setFormMessage(error, done) {
  $("form-error").textContent = error || "";
  $("form-error").hidden = !error;
  $("form-done").textContent = done || "";
  $("form-done").hidden = !done;
}

// ---- start and the token box -----------------------------------------------

async function start() {
  clearInterval(timer);
  timer = null;
  stopJobs();
  for (const id of ["overview", "site-detail", "tenant-view"]) $(id).hidden = true;
  me = null;
  grid = null;
  // Open on every server: a scheduler says so, and has jobs, not sites.
  const health = await api("v1/health");
  const scheduler = health.status === 200 && health.json.scheduler === true;
  const r = await api("v1/whoami");
  if (r.status === 401) {
    $("whoami").textContent = "";
    showError(token() ? "The token was refused (" + errorText(r) + "); paste another."
                      : "Paste your Hearth token above to see the " + (scheduler ? "jobs." : "grid."));
    $("token-input").focus();
    return;
  }
  if (r.status !== 200) {
    showError(errorText(r));
    return;
  }
  showError("");
  me = r.json;
  $("whoami").textContent = "signed in as " + (me.role || me.kind) + (me.auth === false ? " (server without tokens)" : "");
  if (scheduler) {
    await startJobs({ api, token, el, errorText, showError, me });
  } else if (me.kind === "tenant") {
    $("tenant-name").textContent = me.tenant || me.role;
    $("tenant-view").hidden = false;
    await refreshTenant();
    timer = setInterval(refreshTenant, REFRESH_MS);
  } else {
    const wanted = decodeURIComponent((location.hash.match(/^#site\/(.+)$/) || [])[1] || "");
    openSite = wanted || null;
    await refreshGrid();
    timer = setInterval(refreshGrid, REFRESH_MS);
  }
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const t = $("token-input").value.trim();
  $("token-input").value = "";
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  start();
});

$("token-forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  start();
});

// ---- grid overview ---------------------------------------------------------

async function refreshGrid() {
  const r = await api("v1/grid");
  if (r.status !== 200) {
    showError(errorText(r));
    return;
  }
  showError("");
  grid = r.json;
  $("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  renderCards();
  if (openSite && grid.sites.some((s) => s.site === openSite)) {
    await renderDetail();
  } else {
    openSite = null;
    $("site-detail").hidden = true;
    $("overview").hidden = false;
  }
}

function usefulShare(s) {
  return isNum(s.today_kwh) && s.today_kwh > 0 && isNum(s.today_useful_kwh)
    ? Math.min(1, Math.max(0, s.today_useful_kwh / s.today_kwh)) : null;
}

function renderCards() {
  const box = $("site-cards");
  box.replaceChildren();
  for (const s of grid.sites) {
    const heat = s.heat || {};
    const share = usefulShare(s);
    const dl = el("dl", {},
      el("dt", { text: "Target" }), el("dd", { "data-testid": "card-target", text: celsius(heat.target) }),
      el("dt", { text: "Measured" }), el("dd", { "data-testid": "card-measured", text: celsius(heat.measured) }),
      el("dt", { text: "Mode" }), el("dd", { class: "mode-" + (heat.mode || "none"), "data-testid": "card-mode", text: heat.mode || "\u2013" }),
      el("dt", { text: "Power now" }), el("dd", { "data-testid": "card-power", text: watts(s.power_w) }),
      el("dt", { text: "Heat today" }), el("dd", { "data-testid": "card-today", text: kwh(s.today_kwh) }),
      el("dt", { text: "Useful" }), el("dd", { "data-testid": "card-useful",
        text: share === null ? "\u2013" : Math.round(share * 100) + " % (" + Math.round((1 - share) * 100) + " % wasted)" }));
    const bar = el("div", { class: "share", title: "useful share of today's heat" }, el("div"));
    bar.firstChild.style.width = (share === null ? 0 : share * 100) + "%";
    const alarms = el("ul", { class: "alarms", "data-testid": "card-alarms" });
    for (const a of s.alarms || []) alarms.append(el("li", { text: a }));
    const card = el("div", { class: "card", role: "button", tabindex: "0", "data-testid": "site-card", "data-site": s.site },
      el("h3", { text: s.site }), dl, bar, alarms);
    card.addEventListener("click", () => openDetail(s.site));
    card.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") openDetail(s.site); });
    box.append(card);
  }
}

// ---- site detail -----------------------------------------------------------

async function openDetail(name) {
  openSite = name;
  history.replaceState(null, "", "#site/" + encodeURIComponent(name));
  setFormMessage("", "");
  await renderDetail();
}

$("back").addEventListener("click", () => {
  openSite = null;
  history.replaceState(null, "", location.pathname + location.search);
  $("site-detail").hidden = true;
  $("overview").hidden = false;
});

async function renderDetail() {
  const s = grid.sites.find((x) => x.site === openSite);
  if (!s) return;
  const heat = s.heat || {};
  $("overview").hidden = true;
  $("site-detail").hidden = false;
  $("detail-name").textContent = s.site;
  const target = $("site-target");
  target.textContent = celsius(heat.target);
  target.dataset.value = isNum(heat.target) ? String(heat.target) : "";
  let until = "";
  if (isNum(heat.target_until_unix)) until = " (set by hand until " + new Date(heat.target_until_unix * 1000).toLocaleString() + ")";
  else if (isNum(heat.override)) until = " (set by hand)";
  target.title = until;
  $("site-measured").textContent = celsius(heat.measured);
  $("site-mode").textContent = heat.mode || "\u2013";
  $("site-mode").className = "mode-" + (heat.mode || "none");
  $("site-power").textContent = watts(s.power_w);
  $("site-schedule").textContent = heat.schedule || "none";
  const alarms = $("site-alarms");
  alarms.replaceChildren(...(s.alarms || []).map((a) => el("li", { text: a })));

  const body = $("nodes-table").tBodies[0];
  body.replaceChildren();
  for (const n of s.nodes || []) {
    const row = el("tr", { "data-testid": "node-row" },
      el("td", { text: n.node }),
      el("td", { class: n.state === "down" ? "alarm" : "", text: n.state }),
      el("td", { class: "num", text: n.state === "down" ? "\u2013" : `${n.tasks ?? 0} / ${n.slots_allowed ?? 0} (of ${n.slots ?? 0})` }),
      el("td", { class: "num", text: n.state === "down" ? "\u2013" : watts(n.power_w) }),
      el("td", { class: "num", text: n.state === "down" ? "\u2013" : String(n.tasks ?? 0) }));
    body.append(row);
  }

  // The form is for managers; tenants never get here, and the server refuses
  // them anyway. min and max are the site's bounds, a hint only: the server
  // checks every value.
  const forms = $("site-forms");
  forms.hidden = !me || me.kind === "tenant" || !s.heat;
  const input = $("target-input");
  if (isNum(heat.min)) input.min = heat.min; else input.removeAttribute("min");
  if (isNum(heat.max)) input.max = heat.max; else input.removeAttribute("max");
  $("target-bounds").textContent = isNum(heat.min) && isNum(heat.max)
    ? `between ${heat.min} and ${heat.max} \u00b0C` : "";
  if (formSite !== s.site) {
    if (formSite !== null && tried && tried.site !== s.site) resetTry();
    formSite = s.site;
    input.value = isNum(heat.target) ? String(heat.target) : "";
    $("schedule-input").value = heat.schedule || "";
  }
  await refreshHistory(s);
}

const DAY_MS = 86400000;

async function refreshHistory(s) {
  const box = $("history");
  const week = historySpan === "7d";
  // A week: the span asked for is the chart's (the agents keep a week of
  // minutes); a day: the span of the points, which a young series fills.
  const until = Date.now();
  const range = week ? { t0: until - 7 * DAY_MS, t1: until } : null;
  const r = await api("v1/history?site=" + encodeURIComponent(s.site) + (week ? "&since_ms=" + range.t0 : ""));
  if (r.status !== 200) {
    box.replaceChildren(el("p", { class: "error", text: "history: " + errorText(r) }));
    return;
  }
  const pts = (r.json.points || []).filter((p) => isNum(p.t_ms));
  const note = [];
  if ((r.json.missing || []).length) note.push("no history from " + r.json.missing.map((m) => m.node).join(", "));
  if (pts.length < 2) note.push("a point is recorded every " + (r.json.res_s || 10) + " s; the chart fills in as they come");
  box.replaceChildren(historyChart(pts, r.json.res_s || 10, (s.heat || {}).band, range),
                      ...note.map((t) => el("p", { class: "hint", text: t })));
}

function setSpan(span) {
  historySpan = span;
  $("span-24h").setAttribute("aria-pressed", String(span === "24h"));
  $("span-7d").setAttribute("aria-pressed", String(span === "7d"));
  $("history-title").textContent = span === "7d" ? "Last 7 days" : "Last 24 hours";
  const s = grid && grid.sites.find((x) => x.site === openSite);
  if (s) refreshHistory(s);
}

$("span-24h").addEventListener("click", () => setSpan("24h"));
$("span-7d").addEventListener("click", () => setSpan("7d"));

async function submitChange(what, value) {
  setFormMessage("", "");
  const site = openSite;
  const r = await api("v1/heat/" + what, { site, [what]: value });
  if (r.status !== 200) {
    setFormMessage(errorText(r), "");
    return;
  }
  formSite = null;  // refill the form from the new state
  const nodes = Array.isArray(r.json.nodes) ? " on " + r.json.nodes.join(", ") : "";
  setFormMessage("", what === "target" ? `target set to ${celsius(r.json.target)}${nodes}` : `schedule set${nodes}`);
  await refreshGrid();
}

$("target-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("target-input").value.trim();
  const v = Number(text);
  // Whatever was typed goes to the server, which says what is wrong with it.
  submitChange("target", text !== "" && Number.isFinite(v) ? v : text);
});

$("schedule-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("schedule-input").value.trim();
  submitChange("schedule", text === "" ? "none" : text);
});

// ---- try a target or schedule ----------------------------------------------

function setTryMessage(error, summary) {
  $("try-error").textContent = error || "";
  $("try-error").hidden = !error;
  $("try-summary").textContent = summary || "";
  $("try-summary").hidden = !summary;
}

function resetTry() {
  tried = null;
  $("try-apply").disabled = true;
  setTryMessage("", "");
  $("try-chart").replaceChildren();
}

// A plain number is a target; anything else a schedule, which the agent
// checks as `hearth heat schedule` does.
function proposal(text) {
  return /^-?\d+(\.\d+)?$/.test(text) ? { what: "target", value: Number(text) } : { what: "schedule", value: text };
}

$("try-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("try-input").value.trim();
  const site = openSite;
  const p = proposal(text);
  $("try-apply").disabled = true;
  tried = null;
  setTryMessage("", "simulating\u2026");
  const r = await api("v1/heat/try", { site, [p.what]: p.value, horizon_h: Number($("try-horizon").value) });
  if (r.status !== 200) {
    setTryMessage(errorText(r), "");
    $("try-chart").replaceChildren();
    return;
  }
  const t = r.json;
  const from = { request: "as asked", history: "as over the last day", none: "no history yet: all" }[t.work_from] || t.work_from;
  setTryMessage("", `From ${celsius(t.start_c)} (${t.start_from}), with work for ${Math.round(t.work * 100)} % of the slots ` +
    `(${from}): ${celsius(t.min_c)} to ${celsius(t.max_c)}, ${kwh(t.delivered_kwh)} of heat` +
    (t.starved_h > 0 ? `, ${t.starved_h.toFixed(1)} h below target with no more heat to give` : "") + ".");
  $("try-chart").replaceChildren(tryChart(t));
  tried = { site, what: p.what, value: p.value, text };
  $("try-apply").disabled = false;
});

// What was tried, not what the box says now: Apply is off once it changes.
$("try-input").addEventListener("input", () => { $("try-apply").disabled = true; });

$("try-apply").addEventListener("click", async () => {
  if (!tried || tried.site !== openSite) return;
  $("try-apply").disabled = true;
  await submitChange(tried.what, tried.value);
});

// ---- charts ----------------------------------------------------------------

function niceTicks(lo, hi, count) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

function timeTicks(t0, t1) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    .map((s) => s * 1000);
  const step = steps.find((s) => (t1 - t0) / s <= 8) || 2 * DAY_MS;
  const ticks = [];
  // Local wall-clock boundaries: a tick at 14:00 (or midnight), not at 13:47.
  const offset = new Date(t0).getTimezoneOffset() * 60000;
  for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t1; t += step) ticks.push(t);
  return { ticks, seconds: step < 60000, days: step >= DAY_MS };
}

function clock(t, seconds, days) {
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, "0");
  if (days) return d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  return p(d.getHours()) + ":" + p(d.getMinutes()) + (seconds ? ":" + p(d.getSeconds()) : "");
}

// Two stacked panels over one time axis: temperature with the target band
// (target +/- the site's deadband) above, power below.
function historyChart(pts, resS, band, range) {
  const W = 920, H = 440, L = 60, R = 36;
  const top = { y0: 30, y1: 210 }, bottom = { y0: 250, y1: 400 };
  const half = isNum(band) ? band : 1;
  // range: the week asked for. Without: the span of the points (at most the
  // 24 h asked for), so that a young series fills the chart instead of
  // huddling at one end.
  const t0 = range ? range.t0 : pts.length ? pts[0].t_ms : Date.now() - 60000;
  const t1 = range ? range.t1
    : Math.max(pts.length ? pts[pts.length - 1].t_ms + resS * 1000 : Date.now(), t0 + 4 * resS * 1000);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: "img", "aria-label": "temperature, target band and power over the last " + (range ? "7 days" : "24 hours"),
    "data-testid": "history-chart", "data-points": pts.length, "data-span": range ? "7d" : "24h",
    "data-t0": t0, "data-t1": t1 });
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);

  const temps = [];
  for (const p of pts) {
    if (isNum(p.temp_c)) temps.push(p.temp_c);
    if (isNum(p.target_c)) temps.push(p.target_c - half, p.target_c + half);
  }
  let tLo = temps.length ? Math.min(...temps) : 0, tHi = temps.length ? Math.max(...temps) : 1;
  const pad = Math.max(0.5, (tHi - tLo) * 0.1);
  tLo -= pad; tHi += pad;
  const yT = (v) => top.y1 - ((v - tLo) / (tHi - tLo)) * (top.y1 - top.y0);
  const pMax = Math.max(1, ...pts.map((p) => (isNum(p.power_w) ? p.power_w : 0))) * 1.1;
  const yP = (v) => bottom.y1 - (v / pMax) * (bottom.y1 - bottom.y0);

  // Grid lines and y labels.
  for (const [panel, ticks, y, unit] of [[top, niceTicks(tLo, tHi, 5), yT, "\u00b0C"], [bottom, niceTicks(0, pMax, 4), yP, "W"]]) {
    for (const v of ticks) {
      if (y(v) < panel.y0 - 0.5 || y(v) > panel.y1 + 0.5) continue;
      svg.append(svgEl("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.append(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
    }
    svg.append(svgEl("line", { class: "axis", x1: L, x2: L, y1: panel.y0, y2: panel.y1 }));
    svg.append(svgEl("line", { class: "axis", x1: L, x2: W - R, y1: panel.y1, y2: panel.y1 }));
    svg.append(svgEl("text", { x: 14, y: (panel.y0 + panel.y1) / 2, transform: `rotate(-90 14 ${(panel.y0 + panel.y1) / 2})`,
      "text-anchor": "middle" }, unit === "W" ? "power (W)" : "temperature (\u00b0C)"));
  }
  svg.append(svgEl("text", { class: "title", x: L, y: 18 }, "Measured temperature and target band"));
  svg.append(svgEl("text", { class: "title", x: L, y: 240 }, "Power"));

  // Time axis under each panel.
  const { ticks, seconds, days } = timeTicks(t0, t1);
  for (const t of ticks) {
    for (const panel of [top, bottom]) {
      svg.append(svgEl("line", { class: "axis", x1: x(t), x2: x(t), y1: panel.y1, y2: panel.y1 + 4 }));
    }
    svg.append(svgEl("text", { x: x(t), y: bottom.y1 + 16, "text-anchor": "middle", "data-testid": "time-tick" },
      clock(t, seconds, days)));
  }
  svg.append(svgEl("text", { x: (L + W - R) / 2, y: bottom.y1 + 34, "text-anchor": "middle" }, "local time"));

  // A gap in the series (the agent was down) breaks the lines.
  const gap = 2.5 * resS * 1000;
  const runs = (get) => {
    const out = [];
    let run = [];
    let last = null;
    for (const p of pts) {
      const v = get(p);
      if (!isNum(v) || (last !== null && p.t_ms - last > gap)) {
        if (run.length) out.push(run);
        run = [];
      }
      if (isNum(v)) run.push(p);
      last = p.t_ms;
    }
    if (run.length) out.push(run);
    return out;
  };
  const line = (rs, get, y) => rs.map((r) => r.map((p, i) => (i ? "L" : "M") + x(p.t_ms).toFixed(1) + " " + y(get(p)).toFixed(1)).join(" ")).join(" ");

  const bandRuns = runs((p) => p.target_c);
  const bandD = bandRuns.map((r) => {
    const upper = r.map((p, i) => (i ? "L" : "M") + x(p.t_ms).toFixed(1) + " " + yT(p.target_c + half).toFixed(1));
    // A single point still gets a visible band one bucket wide.
    const end = r.length === 1 ? ["L" + x(r[0].t_ms + resS * 1000).toFixed(1) + " " + yT(r[0].target_c + half).toFixed(1),
                                  "L" + x(r[0].t_ms + resS * 1000).toFixed(1) + " " + yT(r[0].target_c - half).toFixed(1)] : [];
    const lower = r.slice().reverse().map((p) => "L" + x(p.t_ms).toFixed(1) + " " + yT(p.target_c - half).toFixed(1));
    return [...upper, ...end, ...lower, "Z"].join(" ");
  }).join(" ");
  svg.append(svgEl("path", { class: "band", d: bandD, "data-testid": "target-band" }));

  const tempPts = pts.filter((p) => isNum(p.temp_c));
  svg.append(svgEl("path", { class: "temp", d: line(runs((p) => p.temp_c), (p) => p.temp_c, yT),
    "data-testid": "temp-line", "data-points": tempPts.length }));
  svg.append(svgEl("path", { class: "power", d: line(runs((p) => p.power_w), (p) => p.power_w, yP),
    "data-testid": "power-line", "data-points": pts.length }));
  // Dots for a short series, where a line alone would hide single points.
  if (pts.length <= 240) {
    for (const p of tempPts) svg.append(svgEl("circle", { class: "temp", cx: x(p.t_ms), cy: yT(p.temp_c), r: 2.5, "data-testid": "temp-point" }));
    for (const p of pts) if (isNum(p.power_w)) svg.append(svgEl("circle", { class: "power", cx: x(p.t_ms), cy: yP(p.power_w), r: 2.5, "data-testid": "power-point" }));
  }
  // Legend.
  const lx = W - R - 330;
  svg.append(svgEl("line", { class: "temp", x1: lx, x2: lx + 18, y1: 14, y2: 14 }));
  svg.append(svgEl("text", { x: lx + 22, y: 18 }, "measured"));
  svg.append(svgEl("rect", { class: "band", x: lx + 90, y: 8, width: 18, height: 12 }));
  svg.append(svgEl("text", { x: lx + 112, y: 18 }, `target \u00b1 ${half} K`));
  svg.append(svgEl("line", { class: "power", x1: lx + 200, x2: lx + 218, y1: 14, y2: 14 }));
  svg.append(svgEl("text", { x: lx + 222, y: 18 }, "power"));
  return svg;
}

// The predicted temperature under the proposal, its target band, and the
// target today's plan would give, over the hours simulated.
function tryChart(t) {
  const W = 920, H = 300, L = 60, R = 36, y0 = 30, y1 = 250;
  const pts = (t.points || []).filter((p) => isNum(p.t_ms) && isNum(p.temp_c));
  const half = isNum(t.band) ? t.band : 1;
  const t0 = pts.length ? pts[0].t_ms : Date.now();
  const t1 = pts.length > 1 ? pts[pts.length - 1].t_ms : t0 + 3600000;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": `predicted temperature over the next ${t.horizon_h} hours beside today's plan`,
    "data-testid": "try-chart", "data-points": pts.length, "data-horizon": t.horizon_h });
  const x = (v) => L + ((v - t0) / (t1 - t0)) * (W - L - R);
  const vals = [];
  for (const p of pts) {
    vals.push(p.temp_c);
    if (isNum(p.target_c)) vals.push(p.target_c - half, p.target_c + half);
    if (isNum(p.plan_c)) vals.push(p.plan_c);
  }
  let lo = Math.min(...vals), hi = Math.max(...vals);
  const pad = Math.max(0.5, (hi - lo) * 0.08);
  lo -= pad; hi += pad;
  const y = (v) => y1 - ((v - lo) / (hi - lo)) * (y1 - y0);
  for (const v of niceTicks(lo, hi, 5)) {
    if (y(v) < y0 - 0.5 || y(v) > y1 + 0.5) continue;
    svg.append(svgEl("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  svg.append(svgEl("line", { class: "axis", x1: L, x2: L, y1: y0, y2: y1 }));
  svg.append(svgEl("line", { class: "axis", x1: L, x2: W - R, y1: y1, y2: y1 }));
  svg.append(svgEl("text", { x: 14, y: (y0 + y1) / 2, transform: `rotate(-90 14 ${(y0 + y1) / 2})`, "text-anchor": "middle" },
    "temperature (\u00b0C)"));
  svg.append(svgEl("text", { class: "title", x: L, y: 18 }, `Predicted, next ${t.horizon_h === 168 ? "7 days" : "24 hours"}`));
  const { ticks, seconds, days } = timeTicks(t0, t1);
  for (const v of ticks) {
    svg.append(svgEl("line", { class: "axis", x1: x(v), x2: x(v), y1: y1, y2: y1 + 4 }));
    svg.append(svgEl("text", { x: x(v), y: y1 + 16, "text-anchor": "middle" }, clock(v, seconds, days)));
  }
  svg.append(svgEl("text", { x: (L + W - R) / 2, y: y1 + 34, "text-anchor": "middle" }, "local time"));
  const path = (get) => pts.map((p, i) => (i ? "L" : "M") + x(p.t_ms).toFixed(1) + " " + y(get(p)).toFixed(1)).join(" ");
  const upper = pts.map((p, i) => (i ? "L" : "M") + x(p.t_ms).toFixed(1) + " " + y(p.target_c + half).toFixed(1));
  const lower = pts.slice().reverse().map((p) => "L" + x(p.t_ms).toFixed(1) + " " + y(p.target_c - half).toFixed(1));
  svg.append(svgEl("path", { class: "band", d: [...upper, ...lower, "Z"].join(" "), "data-testid": "try-band" }));
  svg.append(svgEl("path", { class: "plan", d: path((p) => p.plan_c), "data-testid": "try-plan" }));
  svg.append(svgEl("path", { class: "predicted", d: path((p) => p.temp_c), "data-testid": "try-predicted",
    "data-points": pts.length }));
  const lx = W - R - 420;
  svg.append(svgEl("line", { class: "predicted", x1: lx, x2: lx + 18, y1: 14, y2: 14 }));
  svg.append(svgEl("text", { x: lx + 22, y: 18 }, "predicted"));
  svg.append(svgEl("rect", { class: "band", x: lx + 90, y: 8, width: 18, height: 12 }));
  svg.append(svgEl("text", { x: lx + 112, y: 18 }, `proposed target \u00b1 ${half} K`));
  svg.append(svgEl("line", { class: "plan", x1: lx + 260, x2: lx + 278, y1: 14, y2: 14 }));
  svg.append(svgEl("text", { x: lx + 282, y: 18 }, "today's plan"));
  return svg;
}

function barChart(rows, testid) {
  const W = 760, bar = 20, gapY = 6, L = 170, R = 190;
  const H = Math.max(1, rows.length) * (bar + gapY) + 30;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": "energy in kWh", "data-testid": testid });
  const max = Math.max(...rows.map((r) => r.kwh), 0) || 1;
  rows.forEach((r, i) => {
    const y = 10 + i * (bar + gapY);
    const label = r.key.length > 26 ? r.key.slice(0, 25) + "\u2026" : r.key;
    svg.append(svgEl("text", { x: L - 8, y: y + bar * 0.7, "text-anchor": "end" }, label));
    const w = Math.max(1, (r.kwh / max) * (W - L - R));
    const rect = svgEl("rect", { class: "bar" + (r.estimated ? " estimated" : ""), x: L, y, width: w, height: bar, "data-testid": "energy-bar" });
    rect.append(svgEl("title", {}, `${r.key}: ${kwhPrecise(r.kwh)}${r.estimated ? " (estimated)" : ""}`));
    svg.append(rect);
    svg.append(svgEl("text", { x: L + w + 6, y: y + bar * 0.7 }, kwhPrecise(r.kwh) + (r.estimated ? " (est.)" : "")));
  });
  svg.append(svgEl("line", { class: "axis", x1: L, x2: L, y1: 4, y2: H - 18 }));
  svg.append(svgEl("text", { x: L, y: H - 4 }, "kWh"));
  return svg;
}

// ---- tenant view -----------------------------------------------------------

async function refreshTenant() {
  const [byJob, byDay] = await Promise.all([api("v1/energy?by=job"), api("v1/energy?by=day")]);
  const failed = [byJob, byDay].find((r) => r.status !== 200);
  showError(failed ? errorText(failed) : "");
  let estimated = false;
  for (const [r, name] of [[byJob, "job"], [byDay, "day"]]) {
    if (r.status !== 200) continue;
    const rows = (r.json.rows || []).map((x) => ({
      key: String(x.key), kwh: (Number(x.energy_uj) || 0) / 3.6e12, seconds: x.seconds, estimated: !!x.estimated,
    }));
    estimated = estimated || rows.some((x) => x.estimated);
    const body = $(`energy-${name}-table`).tBodies[0];
    body.replaceChildren();
    for (const x of rows)
      body.append(el("tr", { "data-testid": `energy-${name}-row` },
        el("td", { text: x.key }), el("td", { class: "num", text: kwhPrecise(x.kwh) }),
        el("td", { class: "num", text: duration(x.seconds) }), el("td", { text: x.estimated ? "estimated" : "" })));
    if (!rows.length)
      body.append(el("tr", {}, el("td", { colspan: "4", class: "hint", text: "no energy charged yet" })));
    $(`energy-${name}-chart`).replaceChildren(barChart(rows, `energy-${name}-bars`));
  }
  $("tenant-estimated").hidden = !estimated;
}

start();
