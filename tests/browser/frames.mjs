// Drives the Jobs view's frames (grid-agent/dashboard/frames.js) in Debian's
// chromium: a job whose tasks collected PNGs, one task failed. Run by
// tests/integration/test_frames_view.cpp, which sets the scene: frames 1-8
// in chunks of 2, each frame a 96x54 PNG made by ffmpeg, frames 5-6's task
// failed (exit 3, nothing collected). Inputs from the environment:
//   HEARTH_JOBS_URL   the scheduler (it serves the page at /)
//   HEARTH_JOBS_JOB   the job
//   HEARTH_TOKEN_TENANT  its tenant's token
//   HEARTH_ARTIFACTS  where the screenshots go (frames-*.png)
//   CHROMIUM          the browser (default /usr/bin/chromium)
// Prints one line a check and exits 1 when any failed.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt;
  if (v === undefined || v === "") {
    console.error(`frames.mjs: set ${name}`);
    process.exit(2);
  }
  return v;
};
const base = env("HEARTH_JOBS_URL").replace(/\/?$/, "/");
const job = env("HEARTH_JOBS_JOB");
const token = env("HEARTH_TOKEN_TENANT");
const artifacts = env("HEARTH_ARTIFACTS");
const executablePath = env("CHROMIUM", "/usr/bin/chromium");
const shot = (name) => join(artifacts, `frames-${name}.png`);

let failed = 0, passed = 0;
function check(ok, what, detail = "") {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${what}${!ok && detail ? ": " + detail : ""}`);
  return ok;
}

mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({ executablePath, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
const offsite = [], pageErrors = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) offsite.push(r.url()); });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(base + "#job/" + encodeURIComponent(job));
  await page.getByTestId("token-input").fill(token);
  await page.getByTestId("token-submit").click();
  await page.getByTestId("job-frames").waitFor();
  const cells = page.getByTestId("frame-cell");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=frame-cell]").length === 7);
  check(await cells.count() === 7, "7 cells: six frames and the failed task's empty cell");
  // Every thumbnail arrives (fetched with the token, shown by object URL).
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=frame-thumb]")]
    .every((i) => i.complete && i.naturalWidth > 0));
  const sizes = await page.getByTestId("frame-thumb").evaluateAll((is) => is.map((i) => `${i.naturalWidth}x${i.naturalHeight}`));
  check(sizes.length === 6 && sizes.every((s) => s === "96x54"), "six thumbnails, 96x54 (small frames are not enlarged)", sizes.join(" "));
  const states = await cells.evaluateAll((cs) => cs.map((c) => c.dataset.state + ":" + c.className.split(" ").find((k) => k.startsWith("st-"))));
  check(states.filter((s) => s === "done:st-done").length === 6, "the frames of done tasks are framed as done", states.join(" "));
  const red = page.locator("[data-testid=frame-cell][data-state=failed]");
  check(await red.count() === 1, "the failed task has one cell");
  const border = await red.evaluate((c) => getComputedStyle(c).borderTopColor);
  check(border === "rgb(185, 28, 28)", "the failed task's cell is framed red", border);
  check((await red.textContent()).includes("frames 5-6"), "the failed cell names its frames", await red.textContent());
  await page.getByTestId("job-frames").screenshot({ path: shot("grid") });

  // A click: the task's log and the full frame.
  await cells.filter({ hasText: "frame_3.png" }).click();
  await page.getByTestId("frame-view").waitFor();
  await page.waitForFunction(() => { const i = document.querySelector("[data-testid=frame-full]"); return i.complete && i.naturalWidth > 0; });
  check(await page.getByTestId("frame-view-title").textContent() === "frame_3.png", "the full frame is frame_3.png");
  check(await page.getByTestId("frame-full").evaluate((i) => i.naturalWidth) === 96, "the full frame is the collected image (96 px wide)");
  await page.getByTestId("task-log-box").waitFor();
  const log = await page.getByTestId("task-log").textContent();
  check(log.includes("rendered 3") && log.includes("rendered 4"), "the log of frames 3-4's task is shown", log);
  await red.click();
  await page.waitForFunction(() => document.querySelector("[data-testid=task-log]").textContent.includes("no frame 5"));
  check(true, "the failed cell shows its task's log");
  await page.screenshot({ path: shot("detail"), fullPage: true });

  // The contact sheet: every frame of the job, in file order.
  await page.getByTestId("contact-sheet-button").click();
  await page.getByTestId("contact-sheet").waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=contact-thumb]")]
    .every((i) => i.complete && i.naturalWidth > 0));
  const names = await page.getByTestId("contact-item").evaluateAll((fs) => fs.map((f) => f.textContent));
  check(names.join(",") === "frame_1.png,frame_2.png,frame_3.png,frame_4.png,frame_7.png,frame_8.png",
    "the contact sheet holds the six frames in order", names.join(","));
  await page.getByTestId("contact-sheet").screenshot({ path: shot("contact-sheet") });
} catch (e) {
  check(false, "the walk through the frames finished", e.stack || String(e));
} finally {
  await browser.close();
}
check(offsite.length === 0, "the page asked nothing of any other server", offsite.join(", "));
check(pageErrors.length === 0, "the page ran without script errors", pageErrors.join("; "));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
