// Drives the dashboard's Jobs view, served by `hearth serve`, in Debian's
// chromium (playwright-core, no bundled browser) as an operator, a facility
// and two tenants would, and checks what the page shows and does against the
// scheduler's own API. Run by tests/integration/test_jobs_view.cpp, which
// sets the scene: the bank's job of frames 1-8 in chunks of 2, frames 1-2
// done, 3-4 failed (exit 3), 5-6 running, 7-8 waiting; the studio's job
// queued, 250 tasks of a count. Every input comes from the environment:
//   HEARTH_JOBS_URL        the scheduler (it serves the page at /)
//   HEARTH_JOBS_JOB        the bank's job; HEARTH_JOBS_OTHER the studio's
//   HEARTH_TOKEN_TENANT, HEARTH_TOKEN_OTHER (the studio), HEARTH_TOKEN_OPERATOR,
//   HEARTH_TOKEN_FACILITY, HEARTH_TOKEN_SITE
//   HEARTH_JOBS_SITE_WORK  the site's request returning frames 5-6 done
//                          (POST /v1/sites/home/work with HEARTH_TOKEN_SITE)
//   HEARTH_ARTIFACTS       where the screenshots go (jobs-*.png)
//   CHROMIUM               the browser (default /usr/bin/chromium)
// Prints one line a check ("ok - ..." or "not ok - ...") and exits 1 when
// any failed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  if (v === undefined || v === "") {
    console.error(`jobs.mjs: set ${name}`);
    process.exit(2);
  }
  return v;
};

const base = env("HEARTH_JOBS_URL").replace(/\/?$/, "/");
const job = env("HEARTH_JOBS_JOB");
const other = env("HEARTH_JOBS_OTHER");
const tenant = env("HEARTH_TOKEN_TENANT");
const studio = env("HEARTH_TOKEN_OTHER");
const operator = env("HEARTH_TOKEN_OPERATOR");
const facility = env("HEARTH_TOKEN_FACILITY");
const siteWork = env("HEARTH_JOBS_SITE_WORK");
const siteToken = env("HEARTH_TOKEN_SITE");
const artifacts = env("HEARTH_ARTIFACTS");
const executablePath = env("CHROMIUM", "/usr/bin/chromium");
const shot = (name) => join(artifacts, `jobs-${name}.png`);

let failed = 0, passed = 0;
function check(ok, what, detail = "") {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${what}${!ok && detail ? ": " + detail : ""}`);
  return ok;
}

async function apiJob(id, token) {
  const r = await fetch(`${base}v1/jobs/${id}`, { headers: { Authorization: "Bearer " + token } });
  return r.status === 200 ? await r.json() : { status: r.status };
}

const offsite = [];
const pageErrors = [];
async function newPage(browser, height = 900) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:")) offsite.push(r.url()); });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // Markup in a job's command or log must never become an element, nor run.
  page.on("dialog", async (d) => {
    if (d.type() === "confirm") return d.accept();
    pageErrors.push("unexpected " + d.type() + ": " + d.message());
    return d.dismiss();
  });
  return page;
}

async function signIn(page, token) {
  await page.goto(base);
  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("token-submit").click();
}

const rowIds = (page) => page.locator("[data-testid=job-row]").evaluateAll((rs) => rs.map((r) => r.dataset.job));

mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // CI runs as root, where chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  // ---- without a token, then a facility ----
  const fp = await newPage(browser, 500);
  await fp.goto(base);
  await fp.getByTestId("page-error").waitFor();
  check((await fp.getByTestId("page-error").textContent()).includes("token"), "without a token the page asks for one");
  await signIn(fp, facility);
  await fp.getByTestId("jobs-note").waitFor();
  const note = await fp.getByTestId("jobs-note").textContent();
  check(/may not see jobs/.test(note), "a facility token gets a note that it sees no jobs", note);
  check(!(await fp.getByTestId("jobs-view").isVisible()), "a facility token sees no Jobs view");
  check(await fp.getByTestId("site-card").count() === 0, "the scheduler's page shows no site cards");
  await fp.screenshot({ path: shot("facility"), fullPage: true });

  // ---- an operator: every job, and the overview ----
  const op = await newPage(browser);
  await signIn(op, operator);
  await op.locator(`[data-testid=job-row][data-job="${job}"]`).waitFor();
  await op.locator(`[data-testid=job-row][data-job="${other}"]`).waitFor();
  check(true, "an operator sees both tenants' jobs");
  check(await op.getByTestId("jobs-overview").isVisible(), "an operator sees the overview");
  check(await op.getByTestId("count-queued").textContent() === "1", "the overview counts one queued job",
        await op.getByTestId("count-queued").textContent());
  check(await op.getByTestId("count-running").textContent() === "1", "the overview counts one running job",
        await op.getByTestId("count-running").textContent());
  const tenants = await op.locator("[data-testid=tenant-row] td:first-child").allTextContents();
  check(tenants.includes("bank") && tenants.includes("studio"), "the overview has a row per tenant", tenants.join(", "));
  // The grid's overview, from what the site reported (test_jobs_view.cpp).
  await op.getByTestId("overview-today").waitFor();
  const today = await op.getByTestId("overview-today").textContent();
  check(today === "0.60 kWh", "the grid's overview sums the heat the site reported today", today);
  check(await op.getByTestId("overview-useful").textContent() === "100 %", "all of it within budgets: useful",
        await op.getByTestId("overview-useful").textContent());
  check(await op.getByTestId("overview-co2").textContent() === "0.1 kg", "gas CO2 displaced at 0.2 kg a kWh",
        await op.getByTestId("overview-co2").textContent());
  check(await op.locator("[data-testid=overview-day]").count() === 7, "the week chart has seven days");
  const site = await op.locator("[data-testid=overview-site]").first().textContent();
  check(site.startsWith("homeok"), "the site that asked lately is not in alarm", site);
  await op.screenshot({ path: shot("operator"), fullPage: true });

  // ---- the studio: its own job only, and not the bank's by its address ----
  const sp = await newPage(browser, 500);
  await signIn(sp, studio);
  await sp.locator(`[data-testid=job-row][data-job="${other}"]`).waitFor();
  let ids = await rowIds(sp);
  check(ids.length === 1 && ids[0] === other, "a tenant sees its own jobs only", ids.join(", "));
  check(!(await sp.getByTestId("jobs-overview").isVisible()), "a tenant sees no operator's overview");
  check(!(await sp.getByTestId("grid-overview").isVisible()), "a tenant sees no grid overview");
  await sp.goto(base + "#job/" + job);
  await sp.reload();
  await sp.getByTestId("page-error").waitFor();
  check(!(await sp.getByTestId("job-detail").isVisible()), "another tenant's job does not open by its address");
  await sp.locator(`[data-testid=job-row][data-job="${other}"]`).waitFor();
  const said = await sp.getByTestId("page-error").textContent();
  check(said.includes(job) && (await rowIds(sp)).join() === other, "the page says so above the tenant's own jobs", said);
  // Its own job of 250 tasks, a page of 100 at a time.
  await sp.locator(`[data-testid=job-row][data-job="${other}"]`).click();
  await sp.getByTestId("task-row").first().waitFor();
  const firstPage = await sp.getByTestId("task-terms").first().textContent();
  check(await sp.getByTestId("tasks-range").textContent() === "1-100 of 250", "the first page of tasks is 1-100 of 250",
        await sp.getByTestId("tasks-range").textContent());
  check(await sp.getByTestId("tasks-prev").isDisabled(), "the first page has no previous one");
  await sp.getByTestId("tasks-next").click();
  await sp.waitForFunction(() => document.querySelector("[data-testid=tasks-range]").textContent === "101-200 of 250")
    .catch(() => {});
  const secondPage = await sp.getByTestId("task-terms").first().textContent();
  check(await sp.locator("[data-testid=task-row]").count() === 100 && secondPage !== firstPage,
        "Next shows tasks 101-200", `${firstPage} then ${secondPage}`);
  check(/^items? \d+/.test(secondPage), "a count job's tasks are named by item", secondPage);

  // ---- the bank: its job, its tasks in frames, a log, cancel ----
  const page = await newPage(browser, 1000);
  await signIn(page, tenant);
  const row = page.locator(`[data-testid=job-row][data-job="${job}"]`);
  await row.waitFor();
  ids = await rowIds(page);
  check(!ids.includes(other), "the bank does not see the studio's job", ids.join(", "));
  const progress = await row.getByTestId("job-progress").textContent();
  check(/1 \/ 4 done/.test(progress) && /1 failed/.test(progress), "the list shows the job's progress", progress);
  check(await row.getByTestId("job-state").textContent() === "running", "the list shows the job running");

  await row.click();
  await page.getByTestId("task-row").first().waitFor();
  const tasks = await page.locator("[data-testid=task-row]").evaluateAll((rs) => rs.map((r) => ({
    terms: r.querySelector("[data-testid=task-terms]").textContent, state: r.dataset.state })));
  const shown = tasks.map((t) => `${t.terms}: ${t.state}`).join("; ");
  check(tasks.length === 4, "the job's four tasks are listed", shown);
  check(tasks[0]?.terms === "frames 1-2" && tasks[0]?.state === "done", "frames 1-2 are done", shown);
  check(tasks[1]?.terms === "frames 3-4" && tasks[1]?.state === "failed", "frames 3-4 failed", shown);
  const reason = await page.locator("[data-testid=task-row]").nth(1).locator("td").nth(5).textContent();
  check(reason === "exit status 3", "the failed task shows its reason", reason);
  // The site said it holds frames 5-6; its lease (60 s) may lapse before here.
  check(tasks[2]?.terms === "frames 5-6" && ["running", "waiting"].includes(tasks[2]?.state), "frames 5-6 run (or wait again)", shown);
  check(tasks[3]?.terms === "frames 7-8" && tasks[3]?.state === "waiting", "frames 7-8 wait", shown);
  const command = await page.getByTestId("job-command").textContent();
  check(command.includes("<img src=x onerror=alert(1)>"), "the command's markup is shown as text", command);
  check(await page.locator("#job-detail img").count() === 0, "the command's markup made no element");

  await page.locator("[data-testid=task-row]").first().getByTestId("task-log-button").click();
  await page.getByTestId("task-log-box").waitFor();
  const log = await page.getByTestId("task-log").textContent();
  check(log.includes("hello from task 0") && log.includes("<b>not bold</b>"), "the log of frames 1-2 opens, as text", log);
  check(await page.locator("#task-log b").count() === 0, "the log's markup made no element");
  check((await page.getByTestId("task-log-title").textContent()).includes("frames 1-2"), "the log is titled in frames");
  check(await page.locator("[data-testid=task-row]").last().getByTestId("task-log-button").isDisabled(),
        "a task not started has no log to open");
  check(await page.locator("[data-testid=task-row][data-state=running] [data-testid=task-log-button]").isDisabled()
        .catch(() => true), "a running task has no log to open yet");
  await page.screenshot({ path: shot("detail"), fullPage: true });

  // The site returns frames 5-6 done: the open page follows, unreloaded.
  const work = await fetch(`${base}v1/sites/home/work`, { method: "POST", body: siteWork,
    headers: { Authorization: "Bearer " + siteToken, "Content-Type": "application/json" } });
  check(work.status === 200, "the site's result is accepted", String(work.status));
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=task-row]")[2]?.dataset.state === "done")
    .catch(() => {});
  check(await page.locator("[data-testid=task-row]").nth(2).getAttribute("data-state") === "done",
        "the open page shows frames 5-6 done without a reload");
  const live = await page.getByTestId("job-detail-progress").textContent();
  check(/^2 \/ 4 done/.test(live), "and the job's progress with it", live);

  await page.getByTestId("job-cancel").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=job-detail-state]")?.textContent.startsWith("cancelled"))
    .catch(() => {});
  check((await page.getByTestId("job-detail-state").textContent()).startsWith("cancelled"), "the page shows the job cancelled");
  check((await apiJob(job, operator)).state === "cancelled", "the API says the job is cancelled");
  check(!(await page.getByTestId("job-cancel").isVisible()), "a cancelled job offers no Cancel");
  check(await page.getByTestId("job-resume").isVisible(), "a cancelled job offers Resume");
  check((await apiJob(other, operator)).state === "queued", "the studio's job is untouched");
  await page.screenshot({ path: shot("cancelled"), fullPage: true });

  await page.getByTestId("jobs-back").click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=job-row][data-job="${id}"] [data-testid=job-state]`)
    ?.textContent === "cancelled", job).catch(() => {});
  check(await row.getByTestId("job-state").textContent() === "cancelled", "back in the list, the job is cancelled");
} catch (e) {
  check(false, "the walk through the Jobs view finished", e.stack || String(e));
} finally {
  await browser.close();
}
check(offsite.length === 0, "the page asked nothing of any other server", offsite.join(", "));
check(pageErrors.length === 0, "the page ran without script errors or alerts", pageErrors.join("; "));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
