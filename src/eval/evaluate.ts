/** Scoring a fitted model on a test set, and cross-validation over predefined or k folds. */
import type { Dataset } from "../data/types.js";
import type { FitOptions, Model } from "../models/model.js";
import { scorePredictions, type Scores } from "./metrics.js";

/** RMSE, MAE, MAPE and count of `model` on the ratings of `test` (matched by raw ids). */
export function evaluateModel(model: Model, test: Dataset): Scores {
  const pred = model.predictDataset(test);
  return scorePredictions(pred, test.ratings.rating, model.ratingScale);
}

export interface Fold {
  name: string;
  train: Dataset;
  test: Dataset;
}

export interface FoldResult extends Scores {
  name: string;
  fitSeconds: number;
}

export interface CvResult {
  folds: FoldResult[];
  mean: { rmse: number; mae: number; mape: number };
}

/** Fits a fresh model per fold (from `make`) and scores it on the fold's test part. */
export async function crossValidate(
  make: () => Model,
  folds: Fold[],
  opts: { onFold?: (done: number, total: number, r: FoldResult) => void; fit?: FitOptions } = {},
): Promise<CvResult> {
  const results: FoldResult[] = [];
  for (const f of folds) {
    const t0 = performance.now();
    const model = await make().fit(f.train, opts.fit);
    const fitSeconds = (performance.now() - t0) / 1000;
    const r = { name: f.name, ...evaluateModel(model, f.test), fitSeconds };
    results.push(r);
    opts.onFold?.(results.length, folds.length, r);
  }
  const avg = (key: "rmse" | "mae" | "mape") => results.reduce((s, r) => s + r[key], 0) / results.length;
  return { folds: results, mean: { rmse: avg("rmse"), mae: avg("mae"), mape: avg("mape") } };
}
