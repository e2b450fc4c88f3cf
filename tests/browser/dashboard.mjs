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
} catch (e) {
  check(false, "the walk through the dashboard finished", e.stack || String(e));
} finally {
  await browser.close();
}
check(offsite.length === 0, "the page asked nothing of any other server", offsite.join(", "));
check(pageErrors.length === 0, "the page ran without script errors", pageErrors.join("; "));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
