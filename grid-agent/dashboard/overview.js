// The operator's overview of the grid, above the Jobs view (operator tokens
// only): grid power, heat today and this week, the useful share, the gas
// CO2 the useful heat displaced, the sites with those in alarm first, and a
// chart of the week's heat per day. From GET /v1/overview (hearth-api(7)),
// which the scheduler makes from what its sites report.
// Every value from the server goes in with textContent, never as HTML.

const EVERY_MS = 30000;  // the scheduler scans the week's attempts for it: not every poll
const SVG = "http://www.w3.org/2000/svg";

let last = 0;

const $ = (id) => document.getElementById(id);
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const kwh = (v) => (num(v) >= 100 ? num(v).toFixed(0) : num(v).toFixed(2)) + " kWh";

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// The week's heat per UTC day: useful and past the budgets, stacked.
function weekChart(week) {
  const W = 440, H = 140, L = 64, B = 22, T = 8;
  const max = Math.max(0.001, ...week.map((d) => num(d.kwh)));
  const bw = (W - L - 8) / Math.max(1, week.length);
  const y = (v) => H - B - (num(v) / max) * (H - B - T);
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: "img", "aria-label": "heat per day this week", "data-testid": "overview-week-chart", "data-days": week.length });
  svg.append(svgEl("line", { class: "axis", x1: L, x2: W - 4, y1: H - B, y2: H - B }));
  svg.append(svgEl("text", { x: L - 6, y: T + 8, "text-anchor": "end" }, kwh(max)));
  week.forEach((d, i) => {
    const x = L + i * bw + 3;
    const useful = svgEl("rect", { class: "bar", x, width: bw - 6, y: y(d.useful_kwh), height: H - B - y(d.useful_kwh),
      "data-testid": "overview-day" });
    useful.append(svgEl("title", {}, kwh(d.useful_kwh) + " useful of " + kwh(d.kwh)));
    svg.append(useful);
    const waste = num(d.kwh) - num(d.useful_kwh);
    if (waste > 0)
      svg.append(svgEl("rect", { class: "bar waste", x, width: bw - 6, y: y(d.kwh), height: y(d.useful_kwh) - y(d.kwh) }));
    const day = new Date(num(d.day_ms)).toISOString().slice(5, 10);
    svg.append(svgEl("text", { x: x + (bw - 6) / 2, y: H - 6, "text-anchor": "middle" }, day));
  });
  return svg;
}

// ctx: what app.js shares (api, el, errorText, me). Draws into
// #grid-overview when the token is an operator's, at most every EVERY_MS.
export async function refreshGridOverview(ctx, force = false) {
  const box = $("grid-overview");
  box.hidden = ctx.me.kind !== "operator";
  if (box.hidden || (!force && Date.now() - last < EVERY_MS)) return;
  last = Date.now();
  const r = await ctx.api("v1/overview");
  const el = ctx.el;
  if (r.status !== 200) {
    box.replaceChildren(el("p", { class: "error", text: "The grid's overview: " + ctx.errorText(r) }));
    return;
  }
  const o = r.json;
  const fact = (dt, dd, testid) => el("div", {}, el("dt", { text: dt }), el("dd", { "data-testid": testid, text: dd }));
  const none = num(o.heat_week_kwh) <= 0;
  const facts = el("dl", { class: "facts" },
    fact("grid power (10 min)", num(o.power_w).toFixed(0) + " W", "overview-power"),
    fact("heat today", kwh(o.heat_today_kwh), "overview-today"),
    fact("heat this week", kwh(o.heat_week_kwh), "overview-week"),
    fact("useful share", none ? "\u2013" : (num(o.useful_share) * 100).toFixed(0) + " %", "overview-useful"),
    fact("gas CO2 displaced (week)", num(o.gas_co2_kg_week).toFixed(1) + " kg", "overview-co2"));
  const rows = (o.sites || []).map((s) => el("tr", { "data-testid": "overview-site", "data-alarm": String(!!s.alarm) },
    el("td", { text: s.name }),
    el("td", { class: s.alarm ? "alarm" : "", text: s.alarm ? "alarm: " + s.reason : "ok" }),
    el("td", { class: "num", text: num(s.running) + " / " + num(s.slots) }),
    el("td", { class: "num", text: kwh(s.heat_today_kwh) })));
  const table = el("table", { class: "wide", "data-testid": "overview-sites" },
    el("thead", {}, el("tr", {}, ...["site", "state", "running / slots", "heat today"].map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows));
  box.replaceChildren(el("h3", { text: "The grid" }), facts, weekChart(o.week || []),
    el("p", { class: "hint", text: "From the energy the sites report with each task; CO2 at " +
      num(o.gas_kgco2_per_kwh) + " kg a kWh of gas heat (the grid file's gas_kgco2_per_kwh). " +
      "Bars: heat within the sites' budgets; lighter on top, heat past them." }),
    table);
}
