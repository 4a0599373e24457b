/**
 * `npm run bench -- gbdt [--rows 100000,1000000] [--features F] [--trees T] [--depth D] [--bins B]
 *   [--subsample S] [--reps R] [--seed S]`
 *
 * How the histogram GBDT behind gbdt-stack scales with rows: the one-off binning, training
 * seconds per tree after it (median, min, max over reps) and prediction rows per second, on synthetic rows shaped like the stack's
 * inputs (rating-like integer features and real-valued predictions, a nonlinear target).
 */
import { parseArgs } from "node:util";
import { Rng } from "../src/data/rng.js";
import { binFeatures, trainGbdt, type GbdtParams } from "../src/models/gbdt.js";
import { secondsSince, summarize, writeResults, type Run } from "./lib.js";

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: "string", default: "100000,1000000" },
      features: { type: "string", default: "17" },
      trees: { type: "string", default: "30" },
      depth: { type: "string", default: "4" },
      bins: { type: "string", default: "64" },
      subsample: { type: "string", default: "0.8" },
      reps: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
    },
  });
  const num = (name: keyof typeof values) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number (got "${values[name]}")`);
    return v;
  };
  const rowCounts = String(values.rows).split(",").map((s) => {
    const n = Number(s.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 100) throw new Error(`--rows needs whole numbers ≥ 100 (got "${s}")`);
    return n;
  });
  const F = num("features");
  const reps = num("reps");
  const params: GbdtParams = { trees: num("trees"), depth: num("depth"), lr: 0.1, minLeaf: 50, l2: 1, subsample: num("subsample"), bins: num("bins"), seed: num("seed") };
  const runs: Run[] = [];
  for (const n of rowCounts) {
    const { X, y } = synthesize(n, F, params.seed);
    const binning: number[] = [];
    const perTree: number[] = [];
    const predictRate: number[] = [];
    // One warm-up fit so every repetition runs optimized code.
    trainGbdt(X, F, y, { ...params, trees: 2 });
    for (let rep = 0; rep < reps; rep++) {
      let start = process.hrtime.bigint();
      binFeatures(X, F, params.bins);
      const bin = secondsSince(start);
      binning.push(bin);
      start = process.hrtime.bigint();
      const forest = trainGbdt(X, F, y, { ...params, seed: params.seed + rep });
      perTree.push((secondsSince(start) - bin) / params.trees);
      start = process.hrtime.bigint();
      forest.predict(X, new Float32Array(n));
      predictRate.push(n / secondsSince(start));
    }
    const t = summarize(perTree);
    const p = summarize(predictRate);
    runs.push({
      label: `${n.toLocaleString("en-US")} rows`,
      rows: n,
      binSeconds: summarize(binning).median,
      treeSeconds: t.median,
      treeSecondsMin: t.min,
      treeSecondsMax: t.max,
      predictRowsPerSecond: Math.round(p.median),
    });
    process.stderr.write(`${n} rows: ${t.median.toFixed(4)} s per tree\n`);
  }
  writeResults("gbdt", { features: F, reps, ...params }, runs, [
    "Training is linear in rows: each tree builds one root histogram over the sampled rows, then per level only the smaller child's (the larger is the parent's minus it), and moves every row down the tree once.",
    "Prediction cost is trees × depth per row, independent of the training size.",
  ]);
}

/** Rows like the stack's inputs: 8 rating-valued features, the rest real-valued, and a nonlinear target. */
function synthesize(n: number, F: number, seed: number): { X: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = 3.6;
    for (let f = 0; f < F; f++) {
      const v = f < 8 ? 1 + rng.int(5) : 3.6 + 0.5 * rng.normal();
      X[r * F + f] = v;
      s += (f % 3 === 0 ? 0.1 : 0.03) * (v - 3.6) + (f === 9 ? 0.2 * Math.sin(v) : 0);
    }
    y[r] = Math.min(5, Math.max(1, Math.round(s + 0.9 * rng.normal())));
  }
  return { X, y };
}
