// Opens a lesson in a running JupyterLab with headless Chromium, runs all cells (until the
// lesson prints "lesson NN checks passed"), moves one slider of its widget with the keyboard and
// checks that the figure of the same widget changed.
//
//   node lesson_widget.js <lab base url> <notebook path in lab> <slider label> <screenshot.png> <profile dir>
//
// Prints one JSON line with what it saw; exits 0 when the figure changed, 1 otherwise.
// JupyterLab must run with --LabApp.expose_app_in_browser=True (the script drives its commands).
"use strict";
const { chromium } = require("playwright-core");

const [baseUrl, notebook, sliderLabel, screenshot, profileDir] = process.argv.slice(2);
const PASSED = `lesson ${notebook.slice(0, 2)} checks passed`;
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const RUN_TIMEOUT_MS = 240000;

function log(event, detail) {
  console.error(`[browser] ${event}${detail ? ": " + detail : ""}`);
}

async function figureSource(page) {
  // the inline PNG in the Output area of the widget that holds the slider (course.widget_figure)
  return page.evaluate((label) => {
    const slider = [...document.querySelectorAll(".widget-slider")].find(
      (s) => s.querySelector(".widget-label") && s.querySelector(".widget-label").textContent.trim() === label);
    for (let box = slider; box; box = box.parentElement) {
      const img = box.querySelector(".widget-output img");
      if (img) return img.getAttribute("src");
    }
    return null;
  }, sliderLabel);
}

async function main() {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (err) => log("page error", String(err).slice(0, 200)));
  const result = { notebook, ran: false, before: null, after: null, changed: false };
  try {
    await page.goto(`${baseUrl}/lab/tree/${notebook}`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.jupyterapp && document.querySelector(".jp-Notebook .jp-Cell"),
      null, { timeout: 120000 });
    // wait for the kernel, then run everything
    await page.waitForFunction(() => {
      const w = window.jupyterapp.shell.currentWidget;
      return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel &&
        w.sessionContext.session.kernel.status === "idle";
    }, null, { timeout: 120000 });
    log("kernel idle, running all cells");
    await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
    // read progress from the notebook model (cells outside the viewport may not be in the DOM)
    const progress = () => page.evaluate((passed_text) => {
      const model = window.jupyterapp.shell.currentWidget.content.model;
      let lastCode = null, error = null, passed = false;
      for (let i = 0; i < model.cells.length; i++) {
        const cell = model.cells.get(i);
        if (cell.type !== "code") continue;
        lastCode = cell;
        for (const out of cell.outputs.toJSON()) {
          if (out.output_type === "error") error = error || `${out.ename}: ${out.evalue}`;
          if (out.output_type === "stream" && String(out.text).includes(passed_text)) passed = true;
        }
      }
      return { error, passed, done: Boolean(lastCode && lastCode.executionCount) };
    }, PASSED);
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    let state = await progress();
    while (!state.passed && !state.error && Date.now() < deadline) {
      await page.waitForTimeout(1000);
      state = await progress();
    }
    if (!state.passed) throw new Error(`the notebook did not run through: ${state.error || "timed out"}`);
    result.ran = true;
    log("all cells ran");

    const slider = page.locator(".widget-slider", {
      has: page.locator(".widget-label", { hasText: new RegExp(`^\\s*${sliderLabel.replace(/[()]/g, "\\$&")}\\s*$`) }),
    }).first();
    await slider.scrollIntoViewIfNeeded();
    for (let waited = 0; !(await figureSource(page)) && waited < 60; waited++) await page.waitForTimeout(1000);
    result.before = await figureSource(page);
    if (!result.before) throw new Error(`no figure next to the "${sliderLabel}" slider`);
    const handle = slider.locator(".noUi-handle").first();
    await handle.click();
    for (let i = 0; i < 6; i++) await page.keyboard.press("ArrowRight");
    result.sliderValue = await slider.locator(".widget-readout").first().innerText();
    log(`moved the ${sliderLabel} slider`, result.sliderValue);
    for (let waited = 0; (await figureSource(page)) === result.before && waited < 60; waited++) {
      await page.waitForTimeout(1000);
    }
    // wait until the figure stops changing (one redraw per key press at most)
    let last = await figureSource(page), stableFor = 0;
    for (let waited = 0; stableFor < 3 && waited < 60; waited++) {
      await page.waitForTimeout(1000);
      const now = await figureSource(page);
      stableFor = now === last ? stableFor + 1 : 0;
      last = now;
    }
    result.after = last;
    result.changed = Boolean(result.before && result.after && result.before !== result.after);
    const widgetBox = page.locator(".widget-vbox", { has: slider }).first();
    await widgetBox.screenshot({ path: screenshot });
  } catch (err) {
    result.error = String(err).slice(0, 500);
    await page.screenshot({ path: screenshot, fullPage: false }).catch(() => {});
  } finally {
    await context.close();
  }
  const summary = { ...result, before: result.before && result.before.length, after: result.after && result.after.length };
  console.log(JSON.stringify(summary));
  process.exit(result.changed ? 0 : 1);
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err).slice(0, 500) }));
  process.exit(1);
});
