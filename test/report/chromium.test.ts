/**
 * The data report in a real browser (headless Debian Chromium through playwright-core): every
 * chart's SVG is laid out with a non-zero box and holds visible marks, the page logs no errors
 * and fetches nothing beyond itself.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { writeReport } from "../../src/report/report.js";
import { chromiumMissing, launchChromium, openFile } from "./browser.js";
import { ALL_CHARTS, makeReportFixture } from "./fixture.js";

interface ChartBox {
  id: string;
  svgs: number;
  width: number;
  height: number;
  /** Marks with a non-zero box of their own. */
  visibleMarks: number;
}

/** Runs in the page: each figure's SVG box and how many of its marks have a box. */
const MEASURE = `[...document.querySelectorAll("figure.chart")].map((f) => {
  const svg = f.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const marks = svg ? [...svg.querySelectorAll(".role-mark path, .role-mark line, .role-mark text")] : [];
  return {
    id: f.dataset.chart,
    svgs: f.querySelectorAll("svg").length,
    width: box.width,
    height: box.height,
    visibleMarks: marks.filter((m) => { const b = m.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length,
  };
})`;

test("every chart renders in Chromium with a non-zero box, no console errors, no requests", async () => {
  const missing = chromiumMissing();
  if (missing) {
    if (process.env.CI === "true") assert.unreachable(`${missing}; CI must install it`);
    console.log(`chromium.test: skipped: ${missing}`);
    return;
  }
  const fx = await makeReportFixture("chromium");
  let browser: Browser | null = null;
  try {
    const file = join(fx.dir, "report.html");
    await writeReport(file, { dataset: fx.datasetDir, split: fx.splitDir, compare: fx.compareFile });
    browser = await launchChromium();
    const { page, errors, requests } = await openFile(browser, file);
    const boxes = (await page.evaluate(MEASURE)) as ChartBox[];
    assert.equal(boxes.map((b) => b.id), ALL_CHARTS);
    for (const b of boxes) {
      assert.is(b.svgs, 1, `${b.id}: one svg`);
      assert.ok(b.width > 100 && b.height > 50, `${b.id}: rendered at ${b.width}×${b.height}`);
      assert.ok(b.visibleMarks > 0, `${b.id}: marks with a box`);
    }
    assert.ok((await page.title()).startsWith("Data report: sample"));
    assert.equal(errors, [], "no console errors");
    assert.equal(requests, [], "nothing fetched beyond the file");
  } finally {
    await browser?.close();
    fx.remove();
  }
});

test.run();
