// Drives the Hearth dashboard in Debian's chromium (playwright-core, no
// bundled browser) the way a facility manager and a tenant would, and checks
// what the page shows against the agents' own API. Run by
// tests/integration/test_dashboard.cpp; every input comes from the
// environment:
//   HEARTH_DASH_URL        the page (a grid-agent, or hearth dashboard)
//   HEARTH_DASH_SITES      how many sites the overview must show
//   HEARTH_DASH_SITE       the site to open and change
//   HEARTH_DASH_HEAT_URLS  comma-separated agent URLs of that site (GET /v1/heat)
//   HEARTH_DASH_TARGET     a target within the site's bounds to set
//   HEARTH_DASH_WEEK_MIN   the fewest points the site's week of history has
//   HEARTH_DASH_TRY        a schedule within the site's bounds to try and apply
//   HEARTH_DASH_TRY_CANON  its canonical text, as the agents answer it
//   HEARTH_DASH_JOB        a job the tenant must see in its energy (optional)
//   HEARTH_TOKEN_FACILITY, HEARTH_TOKEN_TENANT
//   HEARTH_ARTIFACTS       where the screenshot goes; HEARTH_DASH_SHOT its name
//   CHROMIUM               the browser (default /usr/bin/chromium)
// Prints one line a check ("ok - ..." or "not ok - ...") and exits 1 when
// any failed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  if (v === undefined || v === "") {
    console.error(`dashboard.mjs: set ${name}`);
    process.exit(2);
  }
  return v;
};

const base = env("HEARTH_DASH_URL").replace(/\/?$/, "/");
const sites = Number(env("HEARTH_DASH_SITES"));
const site = env("HEARTH_DASH_SITE");
const heatUrls = env("HEARTH_DASH_HEAT_URLS").split(",").filter(Boolean);
const newTarget = Number(env("HEARTH_DASH_TARGET"));
const job = process.env.HEARTH_DASH_JOB || "";
const weekMin = Number(env("HEARTH_DASH_WEEK_MIN"));
const trySchedule = env("HEARTH_DASH_TRY");
const tryCanon = env("HEARTH_DASH_TRY_CANON");
const facility = env("HEARTH_TOKEN_FACILITY");
const tenant = env("HEARTH_TOKEN_TENANT");
const artifacts = env("HEARTH_ARTIFACTS");
const shot = join(artifacts, env("HEARTH_DASH_SHOT", "dashboard.png"));
const executablePath = env("CHROMIUM", "/usr/bin/chromium");

let failed = 0, passed = 0;
function check(ok, what, detail = "") {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${what}${!ok && detail ? ": " + detail : ""}`);
  return ok;
}

async function heatTargets() {
  const out = [];
  for (const u of heatUrls) {
    const r = await fetch(u.replace(/\/$/, "") + "/v1/heat", { headers: { Authorization: "Bearer " + facility } });
    out.push(r.status === 200 ? (await r.json()).target : "HTTP " + r.status);
  }
  return out;
}

async function heatSchedules() {
  const out = [];
  for (const u of heatUrls) {
    const r = await fetch(u.replace(/\/$/, "") + "/v1/heat", { headers: { Authorization: "Bearer " + facility } });
    out.push(r.status === 200 ? (await r.json()).schedule : "HTTP " + r.status);
  }
  return out;
}

async function signIn(page, token) {
  await page.goto(base);
  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("token-submit").click();
}

// Opens the site's detail until its chart has more than one point: the
// agents record a point every --history-step seconds.
async function openWithHistory(page) {
  const deadline = Date.now() + 60000;
  for (;;) {
    await page.locator(`[data-testid=site-card][data-site="${site}"]`).click();
    await page.getByTestId("history-chart").waitFor();
    const n = Number(await page.getByTestId("history-chart").getAttribute("data-points"));
    if (n > 1 || Date.now() > deadline) return n;
    await page.getByTestId("back").click();
    await page.waitForTimeout(1000);
  }
}

mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // CI runs as root, where chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const offsite = [];
const pageErrors = [];
try {
  // ---- facility manager ----
  const fm = await browser.newContext({ viewport: { width: 1280, height: 1150 } });
  const page = await fm.newPage();
  page.setDefaultTimeout(20000);
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:")) offsite.push(r.url()); });
  page.on("pageerror", (e) => pageErrors.push(e.message));

  await page.goto(base);
  await page.getByTestId("page-error").waitFor();
  check((await page.getByTestId("page-error").textContent()).includes("token"),
        "without a token the page asks for one");
  check(await page.getByTestId("site-card").count() === 0, "without a token no site is shown");

  await signIn(page, facility);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=site-card]").length === n, sites);
  const names = await page.locator("[data-testid=site-card]").evaluateAll((cs) => cs.map((c) => c.dataset.site));
  check(names.length === sites, `the overview shows every site (${sites})`, names.join(", "));
  check(names.includes(site), `the overview shows site ${site}`, names.join(", "));
  await page.screenshot({ path: shot.replace(/\.png$/, "-overview.png"), fullPage: true });
  const card = page.locator(`[data-testid=site-card][data-site="${site}"]`);
  check(/\d/.test(await card.getByTestId("card-target").textContent()), "the card shows the target");
  check(/W$/.test(await card.getByTestId("card-power").textContent()), "the card shows the power now");
  const useful = await card.getByTestId("card-useful").textContent();
  check(/%/.test(useful) || useful === "\u2013", "the card shows the useful share (or none yet)", useful);

  const points = await openWithHistory(page);
  check(points > 1, "the history chart has more than one point", `data-points=${points}`);
  const drawn = await page.getByTestId("power-line").getAttribute("d");
  check((drawn.match(/[ML]/g) || []).length > 1, "the power line is drawn through the points", drawn);
  check(await page.locator("[data-testid=history-chart] circle").count() > 1, "the chart marks its points");
  check((await page.getByTestId("target-band").getAttribute("d")).length > 0, "the chart shades the target band");
  check(await page.locator("[data-testid=node-row]").count() >= 1, "the nodes table lists the site's nodes");
  check(await page.getByTestId("target-form").isVisible(), "a facility manager sees the target form");
  const bounds = await page.getByTestId("target-bounds").textContent();
  check(/\d/.test(bounds), "the form shows the site's bounds", bounds);

  // A target within bounds: the page shows it and every agent of the site has it.
  await page.getByTestId("target-input").fill(String(newTarget));
  const setReply = page.waitForResponse((r) => r.url().includes("/v1/heat/target"));
  await page.getByTestId("target-submit").click();
  check((await setReply).status() === 200, `setting ${newTarget} is accepted`);
  await page.waitForFunction((t) => Number(document.querySelector("[data-testid=site-target]").dataset.value) === t, newTarget)
    .catch(() => {});
  const shown = Number(await page.getByTestId("site-target").getAttribute("data-value"));
  check(shown === newTarget, "the page shows the new target", `shows ${shown}`);
  let agents = await heatTargets();
  check(agents.every((t) => t === newTarget), "GET /v1/heat of every agent of the site agrees", agents.join(", "));

  // Out of bounds: the server refuses, the page says why, nothing changes.
  await page.getByTestId("target-input").fill("200");
  const badReply = page.waitForResponse((r) => r.url().includes("/v1/heat/target"));
  await page.getByTestId("target-submit").click();
  check((await badReply).status() === 400, "the server refuses 200 with 400");
  await page.getByTestId("form-error").waitFor();
  const err = await page.getByTestId("form-error").textContent();
  check(err.length > 0 && err.includes("200"), "the page shows the server's error", err);
  check(Number(await page.getByTestId("site-target").getAttribute("data-value")) === newTarget,
        "the page still shows the target set before");
  agents = await heatTargets();
  check(agents.every((t) => t === newTarget), "the agents still have the target set before", agents.join(", "));
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`# screenshot ${shot}`);

  // The 7-day view: the week asked for is the chart's span, in days.
  const weekReply = page.waitForResponse((r) => r.url().includes("/v1/history") && r.url().includes("since_ms="));
  await page.getByTestId("span-7d").click();
  const weekAnswer = await (await weekReply).json();
  await page.waitForFunction(() => document.querySelector("[data-testid=history-chart]")?.dataset.span === "7d");
  const weekChart = page.getByTestId("history-chart");
  const span = Number(await weekChart.getAttribute("data-t1")) - Number(await weekChart.getAttribute("data-t0"));
  check(Math.abs(span - 7 * 86400000) < 60000, "the 7-day view spans a week", `${span} ms`);
  const weekAsked = Number(new URL((await weekReply).url()).searchParams.get("since_ms"));
  check(Math.abs(Date.now() - weekAsked - 7 * 86400000) < 120000, "the 7-day view asks the API for a week", String(weekAsked));
  const weekPoints = Number(await weekChart.getAttribute("data-points"));
  check(weekPoints === (weekAnswer.points || []).length, "the 7-day chart draws every point the API sent",
        `${weekPoints} drawn, ${(weekAnswer.points || []).length} sent`);
  check(weekAnswer.res_s === 60, "a week comes in minutes", String(weekAnswer.res_s));
  check(weekPoints >= weekMin, `the 7-day chart has the week's ${weekMin} minutes`, String(weekPoints));
  const weekFirst = weekPoints ? weekAnswer.points[0].t_ms : 0;
  check(weekFirst - Number(await weekChart.getAttribute("data-t0")) < 2 * 3600000,
        "the week's first point is at the chart's left edge", String(weekFirst));
  const tempPath = await page.getByTestId("temp-line").getAttribute("d");
  check((tempPath.match(/[ML]/g) || []).length >= weekMin, "the week's temperature is drawn through every point",
        `${(tempPath.match(/[ML]/g) || []).length} vertices`);
  const ticks = await page.locator("[data-testid=history-chart] [data-testid=time-tick]").allTextContents();
  check(ticks.length >= 6 && ticks.every((t) => !/^\d\d:\d\d$/.test(t)), "the 7-day axis is labelled by day", ticks.join(" | "));
  check((await page.getByTestId("history-title").textContent()).includes("7 days"), "the heading says 7 days");
  await page.screenshot({ path: shot.replace(/\.png$/, "-7d.png"), fullPage: true });
  await page.getByTestId("span-24h").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=history-chart]")?.dataset.span === "24h");
  const dayTicks = await page.locator("[data-testid=history-chart] [data-testid=time-tick]").allTextContents();
  check(dayTicks.every((t) => /^\d\d:\d\d(:\d\d)?$/.test(t)), "back on 24 h the axis shows clock times", dayTicks.join(" | "));

  // ---- tenant ----
  const tc = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const tp = await tc.newPage();
  tp.setDefaultTimeout(20000);
  tp.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:")) offsite.push(r.url()); });
  tp.on("pageerror", (e) => pageErrors.push(e.message));
  await signIn(tp, tenant);
  await tp.getByTestId("tenant-view").waitFor();
  check(await tp.getByTestId("site-card").count() === 0, "a tenant sees no site cards");
  check(!(await tp.getByTestId("target-form").isVisible()), "a tenant does not see the target form");
  check(!(await tp.getByTestId("try-form").isVisible()), "a tenant does not see the Try form");
  if (job) {
    await tp.locator("[data-testid=energy-job-row]", { hasText: job }).first().waitFor();
    check(true, `the tenant sees its job ${job} in its energy by job`);
    check(await tp.locator("[data-testid=energy-job-bars] [data-testid=energy-bar]").count() >= 1,
          "the tenant's energy by job has a bar chart");
    check(await tp.locator("[data-testid=energy-day-row]").count() >= 1, "the tenant sees its energy by day");
  }
  const direct = await tp.evaluate(async ([tok, s, t]) => {
    const r = await fetch("v1/heat/target", {
      method: "POST",
      headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" },
      body: JSON.stringify({ site: s, target: t }),
    });
    return { status: r.status, body: await r.text() };
  }, [tenant, site, newTarget - 1]);
  check(direct.status === 403, "a tenant's own POST /v1/heat/target is refused with 403", JSON.stringify(direct));
  agents = await heatTargets();
  check(agents.every((t) => t === newTarget), "the tenant's POST changed nothing", agents.join(", "));
  await tp.screenshot({ path: shot.replace(/\.png$/, "-tenant.png"), fullPage: true });
  const tenantTry = await tp.evaluate(async ([tok, s, sch]) => {
    const r = await fetch("v1/heat/try", {
      method: "POST",
      headers: { Authorization: "Bearer " + tok, "Content-Type": "application/json" },
      body: JSON.stringify({ site: s, schedule: sch }),
    });
    return { status: r.status, body: await r.json() };
  }, [tenant, site, trySchedule]);
  check(tenantTry.status === 403 && typeof tenantTry.body.error === "string",
        "a tenant's POST /v1/heat/try is refused with 403 and a JSON error", JSON.stringify(tenantTry));

  // ---- the manager tries a schedule, then applies it ----
  // A bad one first: the agent's message, as hearth heat schedule gives it.
  await page.getByTestId("try-input").fill("always at 60");
  const badTry = page.waitForResponse((r) => r.url().includes("/v1/heat/try"));
  await page.getByTestId("try-submit").click();
  check((await badTry).status() === 400, "a bad schedule's try is refused with 400");
  await page.getByTestId("try-error").waitFor();
  const tryErr = await page.getByTestId("try-error").textContent();
  check(tryErr.includes(`site '${site}'`) && tryErr.includes("always"), "the page shows the schedule's error", tryErr);
  check(await page.getByTestId("try-apply").isDisabled(), "a refused try cannot be applied");

  await page.getByTestId("try-input").fill(trySchedule);
  await page.getByTestId("try-horizon").selectOption("24");
  const goodTry = page.waitForResponse((r) => r.url().includes("/v1/heat/try"));
  await page.getByTestId("try-submit").click();
  const tryReply = await goodTry;
  check(tryReply.status() === 200, "the try is answered");
  const tryAnswer = await tryReply.json();
  await page.getByTestId("try-predicted").waitFor();
  const predicted = page.getByTestId("try-predicted");
  const drawnPts = Number(await predicted.getAttribute("data-points"));
  check(drawnPts === tryAnswer.points.length && drawnPts === 24 * 12 + 1,
        "the predicted curve has every point of the next 24 h", `${drawnPts} drawn, ${tryAnswer.points.length} sent`);
  check(((await predicted.getAttribute("d")).match(/L/g) || []).length === drawnPts - 1, "the predicted curve is drawn through them");
  check((await page.getByTestId("try-plan").getAttribute("d")).length > 0, "today's plan is drawn beside it");
  check((await page.getByTestId("try-band").getAttribute("d")).length > 0, "the proposal's target band is shaded");
  check(tryAnswer.proposal.schedule === tryCanon, "the agent read the schedule tried", tryAnswer.proposal.schedule);
  check((await page.getByTestId("try-summary").textContent()).includes("kWh"), "the page sums the prediction up");
  check(!(await page.getByTestId("try-apply").isDisabled()), "a good try can be applied");
  let schedules = await heatSchedules();
  check(schedules.every((x) => x !== tryCanon), "trying changed no agent's schedule", schedules.join(", "));
  await page.getByTestId("try-chart").scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot.replace(/\.png$/, "-try.png"), fullPage: true });

  const applied = page.waitForResponse((r) => r.url().includes("/v1/heat/schedule"));
  await page.getByTestId("try-apply").click();
  check((await applied).status() === 200, "Apply sets the schedule");
  await page.waitForFunction((c) => document.querySelector("[data-testid=site-schedule]").textContent === c, tryCanon)
    .catch(() => {});
  check(await page.getByTestId("site-schedule").textContent() === tryCanon, "the page shows the schedule applied",
        await page.getByTestId("site-schedule").textContent());
  schedules = await heatSchedules();
  check(schedules.every((x) => x === tryCanon), "every agent of the site has the schedule applied", schedules.join(", "));
  await page.screenshot({ path: shot.replace(/\.png$/, "-applied.png"), fullPage: true });
} catch (e) {
  check(false, "the walk through the dashboard finished", e.stack || String(e));
} finally {
  await browser.close();
}
check(offsite.length === 0, "the page asked nothing of any other server", offsite.join(", "));
check(pageErrors.length === 0, "the page ran without script errors", pageErrors.join("; "));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
