/**
 * Accuracy metrics over (prediction, rating) pairs. Predictions are clipped to the rating scale
 * first, as a recommender would show them.
 *
 *   RMSE = sqrt(mean((p − r)²))     MAE = mean(|p − r|)     MAPE = 100 · mean(|p − r| / r)
 *
 * MAPE is undefined for a rating of 0; such ratings are left out of MAPE only (and counted in
 * `mapeN`), which never happens on the 1–5 or 0.5–5 scales of Netflix and MovieLens.
 */
export interface Scores {
  rmse: number;
  mae: number;
  mape: number;
  n: number;
}

export function scorePredictions(pred: Float32Array, rating: Float32Array, scale: { min: number; max: number }): Scores {
  if (pred.length !== rating.length) throw new Error(`${pred.length} predictions for ${rating.length} ratings`);
  let se = 0;
  let ae = 0;
  let ape = 0;
  let mapeN = 0;
  for (let k = 0; k < pred.length; k++) {
    let p = pred[k]!;
    if (p < scale.min) p = scale.min;
    else if (p > scale.max) p = scale.max;
    const r = rating[k]!;
    const e = p - r;
    se += e * e;
    ae += Math.abs(e);
    if (r !== 0) {
      ape += Math.abs(e) / Math.abs(r);
      mapeN++;
    }
  }
  const n = pred.length;
  return {
    rmse: n ? Math.sqrt(se / n) : NaN,
    mae: n ? ae / n : NaN,
    mape: mapeN ? (100 * ape) / mapeN : NaN,
    n,
  };
}
