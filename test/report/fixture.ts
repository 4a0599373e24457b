/**
 * The report tests' inputs: a small generated dataset, a temporal split of it, and model results
 * in the three shapes `--compare` accepts, all written to a temporary folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDataset } from "../../src/data/dataset.js";
import { generateDataset } from "../../src/data/generate.js";
import { split, writeSplit, type SplitPart } from "../../src/data/split.js";
import type { Dataset } from "../../src/data/types.js";

export interface ReportFixture {
  dir: string;
  ds: Dataset;
  part: SplitPart;
  datasetDir: string;
  splitDir: string;
  compareFile: string;
  remove(): void;
}

/** `movierec cv --json` (mean over folds), two `evaluate --json` lines of one algorithm, and a `rows` table. */
export const COMPARE_NDJSON = [
  { algo: "baseline", params: { method: "als" }, folds: [{ name: "u1", rmse: 0.95 }], mean: { rmse: 0.9441, mae: 0.7477, mape: 29.9 } },
  { algo: "mf", params: { factors: 50, epochs: 20 }, rmse: 0.9185, mae: 0.7233, mape: 28.7, n: 20000 },
  { algo: "mf", params: { factors: 100, epochs: 20 }, rmse: 0.9121, mae: 0.7181, mape: 28.4, n: 20000 },
  { rows: [{ algo: "global-mean", rmse: 1.1257, mae: 0.9447, mape: 37.2 }] },
]
  .map((r) => JSON.stringify(r))
  .join("\n");

export async function makeReportFixture(prefix: string): Promise<ReportFixture> {
  const dir = mkdtempSync(join(tmpdir(), `movierec-${prefix}-`));
  const ds = generateDataset({ users: 1500, movies: 300, ratings: 30_000, seed: 11 });
  const datasetDir = join(dir, "sample");
  const splitDir = join(dir, "split");
  const compareFile = join(dir, "results.ndjson");
  await writeDataset(datasetDir, ds);
  const [part] = split(ds, { method: "temporal", ratio: 0.8 });
  await writeSplit(splitDir, [part!]);
  writeFileSync(compareFile, COMPARE_NDJSON + "\n");
  return { dir, ds, part: part!, datasetDir, splitDir, compareFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The ids of the charts a full report (with split and comparison) holds, in page order. */
export const ALL_CHARTS = [
  "rating-distribution",
  "ratings-per-month",
  "ratings-per-weekday",
  "ratings-per-user",
  "ratings-per-movie",
  "average-ratings",
  "cold-start",
  "model-comparison",
];
