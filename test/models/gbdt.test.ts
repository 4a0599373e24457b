/** The histogram GBDT against a plain exhaustive regression tree, and its boosting behaviour. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Rng } from "../../src/data/rng.js";
import { binFeatures, Forest, trainGbdt, type GbdtParams } from "../../src/models/gbdt.js";

const ONE_TREE: GbdtParams = { trees: 1, depth: 2, lr: 1, minLeaf: 1, l2: 0, subsample: 1, bins: 256, seed: 1 };

/** n rows of F features: integer-valued features 0..levels−1 and a real-valued target. */
function data(n: number, F: number, levels: number, seed: number, target: (x: Float32Array) => number) {
  const rng = new Rng(seed);
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const row = X.subarray(r * F, (r + 1) * F);
    for (let f = 0; f < F; f++) row[f] = rng.int(levels);
    y[r] = target(row) + 0.1 * rng.normal();
  }
  return { X, y };
}

/** Exhaustive greedy regression tree (what one boosting round with lr 1 and l2 0 must equal). */
function referenceTree(X: Float32Array, F: number, resid: number[], rows: number[], depth: number, minLeaf: number): (x: Float32Array) => number {
  const sum = rows.reduce((s, r) => s + resid[r]!, 0);
  const leaf = () => sum / rows.length;
  if (depth === 0 || rows.length < 2 * minLeaf) return leaf;
  const parent = (sum * sum) / rows.length;
  let best = 1e-9 * Math.max(1, parent);
  let split: { f: number; t: number } | null = null;
  for (let f = 0; f < F; f++) {
    const values = [...new Set(rows.map((r) => X[r * F + f]!))].sort((a, b) => a - b);
    for (const t of values.slice(0, -1)) {
      const left = rows.filter((r) => X[r * F + f]! <= t);
      const nl = left.length;
      const nr = rows.length - nl;
      if (nl < minLeaf || nr < minLeaf) continue;
      const gl = left.reduce((s, r) => s + resid[r]!, 0);
      const gain = (gl * gl) / nl + ((sum - gl) * (sum - gl)) / nr - parent;
      if (gain > best) {
        best = gain;
        split = { f, t };
      }
    }
  }
  if (!split) return leaf;
  const { f, t } = split;
  const l = referenceTree(X, F, resid, rows.filter((r) => X[r * F + f]! <= t), depth - 1, minLeaf);
  const r = referenceTree(X, F, resid, rows.filter((r) => X[r * F + f]! > t), depth - 1, minLeaf);
  return (x) => (x[f]! <= t ? l(x) : r(x));
}

test("bins: few distinct values get one bin each; many get quantile edges; bin(x) = #edges < x", () => {
  const F = 2;
  const X = new Float32Array(2000 * F);
  for (let r = 0; r < 2000; r++) {
    X[r * F] = r % 5;
    X[r * F + 1] = r / 7;
  }
  const { bins, edges } = binFeatures(X, F, 16);
  assert.equal(Array.from(edges[0]!), [0, 1, 2, 3]);
  assert.ok(edges[1]!.length <= 15 && edges[1]!.length >= 10);
  for (let k = 1; k < edges[1]!.length; k++) assert.ok(edges[1]![k]! > edges[1]![k - 1]!);
  for (let r = 0; r < 2000; r++) {
    for (let f = 0; f < F; f++) {
      const x = X[r * F + f]!;
      assert.is(bins[r * F + f], edges[f]!.filter((e) => e < x).length);
    }
  }
});

test("one round with lr 1 and l2 0 equals the exhaustive greedy regression tree", () => {
  for (const [seed, depth, minLeaf] of [[1, 1, 1], [2, 2, 1], [3, 3, 4], [4, 2, 10]] as const) {
    const F = 3;
    const { X, y } = data(120, F, 6, seed, (x) => (x[0]! > 2 ? 1 : 0) + 0.5 * x[1]! * (x[2]! > 3 ? 1 : -1));
    const forest = trainGbdt(X, F, y, { ...ONE_TREE, depth, minLeaf });
    const base = y.reduce((s, v) => s + v, 0) / y.length;
    const resid = Array.from(y, (v) => v - base);
    const ref = referenceTree(X, F, resid, Array.from(y, (_, r) => r), depth, minLeaf);
    const out = new Float32Array(y.length);
    forest.predict(X, out);
    for (let r = 0; r < y.length; r++) {
      const want = base + ref(X.subarray(r * F, (r + 1) * F));
      assert.ok(Math.abs(out[r]! - want) < 1e-5, `seed ${seed} depth ${depth} row ${r}: ${out[r]} vs ${want}`);
    }
  }
});

test("boosting: training error never rises without subsampling, and the trees learn a nonlinear target", () => {
  const F = 4;
  const { X, y } = data(3000, F, 20, 5, (x) => (x[0]! > 9 ? 2 : 0) + ((x[1]! - 10) / 5) ** 2 - 0.1 * x[2]! * (x[3]! > 5 ? 1 : 0));
  const rmses: number[] = [];
  const forest = trainGbdt(X, F, y, { trees: 150, depth: 4, lr: 0.1, minLeaf: 5, l2: 1, subsample: 1, bins: 32, seed: 1 }, (t, trees, rmse) => {
    assert.is(trees, 150);
    assert.is(t, rmses.length + 1);
    rmses.push(rmse);
  });
  for (let t = 1; t < rmses.length; t++) assert.ok(rmses[t]! <= rmses[t - 1]! + 1e-12, `tree ${t + 1}`);
  const out = new Float32Array(y.length);
  forest.predict(X, out);
  let se = 0;
  let sd = 0;
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  for (let r = 0; r < y.length; r++) {
    se += (out[r]! - y[r]!) ** 2;
    sd += (y[r]! - mean) ** 2;
  }
  assert.ok(Math.abs(Math.sqrt(se / y.length) - rmses[rmses.length - 1]!) < 1e-5, "predict on raw values = training on bins");
  assert.ok(se < 0.05 * sd, `explained ${(1 - se / sd).toFixed(3)} of the variance`);
  assert.is(forest.nTrees, 150);
});

test("every leaf holds at least minLeaf training rows", () => {
  const F = 2;
  const { X, y } = data(200, F, 50, 6, (x) => x[0]! + x[1]!);
  const forest = trainGbdt(X, F, y, { ...ONE_TREE, depth: 6, minLeaf: 17 });
  const perLeaf = new Map<number, number>();
  for (let r = 0; r < y.length; r++) {
    let k = forest.roots[0]!;
    while (forest.feature[k]! >= 0) k = forest.child[k]! + (X[r * F + forest.feature[k]!]! > forest.threshold[k]! ? 1 : 0);
    perLeaf.set(k, (perLeaf.get(k) ?? 0) + 1);
  }
  assert.ok(perLeaf.size > 3);
  for (const c of perLeaf.values()) assert.ok(c >= 17, `a leaf with ${c} rows`);
});

test("same seed, same forest; the seed matters when rows are subsampled; arrays round-trip", () => {
  const F = 3;
  const { X, y } = data(500, F, 10, 7, (x) => x[0]! * x[1]! - x[2]!);
  const p: GbdtParams = { trees: 20, depth: 3, lr: 0.2, minLeaf: 5, l2: 1, subsample: 0.6, bins: 16, seed: 9 };
  const predict = (f: Forest) => {
    const out = new Float32Array(y.length);
    f.predict(X, out);
    return out;
  };
  const a = trainGbdt(X, F, y, p);
  assert.equal(predict(trainGbdt(X, F, y, p)), predict(a));
  assert.not.equal(predict(trainGbdt(X, F, y, { ...p, seed: 10 })), predict(a));
  assert.equal(predict(Forest.fromArrays(a.toArrays())), predict(a));
});

test("bad shapes and bin counts are refused", () => {
  const X = new Float32Array(10);
  const y = new Float32Array(5);
  assert.throws(() => trainGbdt(X, 3, y, ONE_TREE), /10 feature values for 5 rows of 3 features/);
  assert.throws(() => trainGbdt(X, 2, y, { ...ONE_TREE, bins: 300 }), /bins must be from 2 to 256/);
  assert.throws(() => trainGbdt(new Float32Array(0), 2, new Float32Array(0), ONE_TREE), /no rows/);
});

test.run();
