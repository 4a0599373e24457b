/**
 * Makes docs/report.png: a data report for a generated Netflix-shaped sample (seeded, so the
 * picture is reproducible) with a temporal split, and the comparison of a few models trained on
 * that split's train part and scored on its test part, captured full page in headless Chromium.
 *
 *   npm run build && node dist/scripts/screenshot-report.js [--out docs/report.png] [--ratings 2000000]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeDataset } from "../src/data/dataset.js";
import { generateDataset } from "../src/data/generate.js";
import { split, writeSplit } from "../src/data/split.js";
import type { Dataset } from "../src/data/types.js";
import { evaluateModel } from "../src/eval/evaluate.js";
import type { Params } from "../src/models/params.js";
import { createModel } from "../src/models/registry.js";
import { writeReport } from "../src/report/report.js";
import { chromiumMissing, launchChromium, openFile } from "../test/report/browser.js";

/** From dist/scripts/, the repository's docs/ folder. */
const DOCS = fileURLToPath(new URL("../../docs/", import.meta.url));

/** The models compared in the picture. */
const MODELS: { algo: string; params: Params }[] = [
  { algo: "global-mean", params: {} },
  { algo: "movie-mean", params: {} },
  { algo: "baseline", params: {} },
  { algo: "mf", params: { factors: 50 } },
];

/** Fits each model on `train`, scores it on `test`: one `movierec evaluate --json` line per model. */
async function compareModels(train: Dataset, test: Dataset): Promise<string> {
  const lines: string[] = [];
  for (const m of MODELS) {
    const model = await createModel(m.algo, m.params).fit(train);
    const s = evaluateModel(model, test);
    lines.push(JSON.stringify({ algo: model.algo, params: model.params, rmse: s.rmse, mae: s.mae, mape: s.mape, n: s.n }));
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string" }, ratings: { type: "string" } } });
  const out = values.out ?? join(DOCS, "report.png");
  const ratings = Number(values.ratings ?? 2_000_000);
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const tmp = mkdtempSync(join(tmpdir(), "movierec-screenshot-"));
  try {
    const ds = generateDataset({ users: Math.round(ratings / 100), movies: Math.round(ratings / 700), ratings, seed: 1 });
    await writeDataset(join(tmp, "netflix-sample"), ds);
    const [part] = split(ds, { method: "temporal" });
    await writeSplit(join(tmp, "split"), [part!]);
    writeFileSync(join(tmp, "results.ndjson"), await compareModels(part!.train, part!.test));
    const html = join(tmp, "report.html");
    await writeReport(html, { dataset: join(tmp, "netflix-sample"), split: join(tmp, "split"), compare: join(tmp, "results.ndjson") });
    const browser = await launchChromium();
    try {
      const { page, errors } = await openFile(browser, html);
      if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join("; ")}`);
      await page.screenshot({ path: out, fullPage: true });
    } finally {
      await browser.close();
    }
    process.stdout.write(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KB)\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
