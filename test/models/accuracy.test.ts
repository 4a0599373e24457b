/**
 * Ground truth for the models: a planted low-rank matrix that mf must recover, and the RMSE bands
 * on the official MovieLens 100K folds (u1–u5) that the issue sets for the defaults.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadMovieLensFolds } from "../../src/data/readers/movielens.js";
import { crossValidate, evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";
import { sharedData } from "../data/helpers.js";
import { planted } from "./fixtures.js";

test("mf recovers a planted low-rank matrix to near its noise level; the baselines cannot", async () => {
  const p = planted({ users: 600, movies: 200, perUser: 60, testPerUser: 6, rank: 3, noise: 0.25, seed: 11 });
  const mf = await createModel("mf", { factors: 8, epochs: 80, lr: 0.01, reg: 0.02 }).fit(p.train);
  const base = await createModel("baseline").fit(p.train);
  const mfRmse = evaluateModel(mf, p.test).rmse;
  const baseRmse = evaluateModel(base, p.test).rmse;
  assert.ok(mfRmse < p.noiseRmse + 0.1, `mf ${mfRmse.toFixed(4)} vs noise ${p.noiseRmse.toFixed(4)}`);
  assert.ok(baseRmse > mfRmse + 0.2, `baseline ${baseRmse.toFixed(4)} should be far worse than mf ${mfRmse.toFixed(4)}`);
});

const BANDS: [string, number][] = [
  ["baseline", 0.945],
  ["mf", 0.915],
  ["svdpp", 0.905],
  ["timesvdpp", 0.9],
  ["knn-item", 0.915],
  ["knn-user", 0.92],
  ["slopeone", 0.945],
  ["blend", 0.89],
  ["gbdt-stack", 0.89],
];

for (const [algo, max] of BANDS) {
  test(`MovieLens 100K official folds: ${algo} with defaults, mean RMSE ≤ ${max}`, async () => {
    const folder = sharedData("ml-100k");
    if (folder === null) return;
    const folds = await loadMovieLensFolds(folder);
    assert.is(folds.length, 5);
    const res = await crossValidate(() => createModel(algo), folds);
    console.log(`  ${algo}: mean RMSE ${res.mean.rmse.toFixed(4)} (${res.folds.map((f) => f.rmse.toFixed(4)).join(", ")})`);
    assert.ok(res.mean.rmse <= max, `${algo} mean RMSE ${res.mean.rmse} > ${max}`);
    assert.ok(res.mean.rmse > 0.85, "suspiciously good: check for test leakage");
  });
}

test.run();
