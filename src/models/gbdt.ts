/**
 * Gradient-boosted regression trees on histograms (Friedman 2001, "Greedy function
 * approximation"; the histogram method of LightGBM, Ke et al. 2017), squared loss:
 *
 *   F_0 = mean(y);   F_t(x) = F_{t−1}(x) + lr · tree_t(x)
 *
 * Each tree is fitted to the residuals g_r = y_r − F_{t−1}(x_r) of a row sample (each row kept
 * with probability `subsample`, seeded). Features are cut once into at most `bins` quantile bins
 * (≤ 256, one byte per value); a node's histogram holds, per feature and bin, the sum of the
 * residuals and the row count. A node splits on the (feature, bin) with the largest gain
 *
 *   G_L² / (n_L + l2) + G_R² / (n_R + l2) − G² / (n + l2)      with n_L, n_R ≥ minLeaf,
 *
 * trees grow level by level to `depth`, and a leaf's value is lr · G / (n + l2). Only the smaller
 * child's histogram is built from its rows; the larger one is the parent's minus it.
 *
 * Cost per tree ≈ rows × features × depth / 2 histogram updates plus rows × depth to update the
 * predictions: linear in rows. Trees are stored as flat typed arrays (Forest) and predict from
 * raw feature values: at an inner node a row goes to the second child when x[feature] > threshold.
 */
import { Rng } from "../data/rng.js";
import { DataError } from "../data/types.js";
import type { ArrayData } from "./io.js";

export interface GbdtParams {
  trees: number;
  depth: number;
  lr: number;
  minLeaf: number;
  l2: number;
  subsample: number;
  /** Histogram bins per feature, 2..256. */
  bins: number;
  seed: number;
}

/** Rows used to place the bin edges of a feature (an even stride over the rows). */
const BIN_SAMPLE = 200_000;

/** Boosted trees in flat arrays: node k is a leaf when feature[k] < 0, else its children are child[k] and child[k] + 1. */
export class Forest {
  constructor(
    readonly nFeatures: number,
    readonly base: number,
    readonly roots: Int32Array,
    readonly feature: Int32Array,
    readonly threshold: Float32Array,
    readonly child: Int32Array,
    readonly value: Float32Array,
  ) {}

  get nTrees(): number {
    return this.roots.length;
  }

  /** Predictions for the rows of X (row-major, nFeatures per row) into out. */
  predict(X: Float32Array, out: Float32Array): void {
    const F = this.nFeatures;
    const n = out.length;
    if (X.length !== n * F) throw new DataError(`${X.length} feature values for ${n} rows of ${F} features`);
    const { roots, feature, threshold, child, value } = this;
    for (let r = 0; r < n; r++) {
      const o = r * F;
      let s = this.base;
      for (let t = 0; t < roots.length; t++) {
        let k = roots[t]!;
        let f = feature[k]!;
        while (f >= 0) {
          k = child[k]! + (X[o + f]! > threshold[k]! ? 1 : 0);
          f = feature[k]!;
        }
        s += value[k]!;
      }
      out[r] = s;
    }
  }

  toArrays(): Record<string, ArrayData> {
    return { roots: this.roots, feature: this.feature, threshold: this.threshold, child: this.child, value: this.value, head: Float64Array.of(this.nFeatures, this.base) };
  }

  static fromArrays(a: Record<string, ArrayData>): Forest {
    const head = a.head as Float64Array;
    return new Forest(head[0]!, head[1]!, a.roots as Int32Array, a.feature as Int32Array, a.threshold as Float32Array, a.child as Int32Array, a.value as Float32Array);
  }
}

/** Quantile bin edges per feature and each value's bin (row-major bytes): bin(x) = #{edges < x}. */
export function binFeatures(X: Float32Array, nFeatures: number, maxBins: number): { bins: Uint8Array; edges: Float32Array[] } {
  const n = X.length / nFeatures;
  const stride = Math.max(1, Math.floor(n / BIN_SAMPLE));
  const edges: Float32Array[] = [];
  for (let f = 0; f < nFeatures; f++) {
    const sample = new Float32Array(Math.ceil(n / stride));
    let m = 0;
    for (let r = 0; r < n; r += stride) sample[m++] = X[r * nFeatures + f]!;
    const sorted = sample.subarray(0, m).sort();
    const cuts: number[] = [];
    const distinct = countDistinct(sorted);
    if (distinct <= maxBins) {
      for (let k = 0; k + 1 < m; k++) if (sorted[k]! !== sorted[k + 1]!) cuts.push(sorted[k]!);
    } else {
      for (let q = 1; q < maxBins; q++) {
        const v = sorted[Math.floor((q * m) / maxBins)]!;
        if (cuts.length === 0 || v > cuts[cuts.length - 1]!) cuts.push(v);
      }
      if (cuts[cuts.length - 1] === sorted[m - 1]) cuts.pop();
    }
    edges.push(Float32Array.from(cuts));
  }
  const bins = new Uint8Array(X.length);
  for (let f = 0; f < nFeatures; f++) {
    const e = edges[f]!;
    for (let r = 0; r < n; r++) bins[r * nFeatures + f] = lowerBound(e, X[r * nFeatures + f]!);
  }
  return { bins, edges };
}

function countDistinct(sorted: Float32Array): number {
  let d = sorted.length > 0 ? 1 : 0;
  for (let k = 1; k < sorted.length; k++) if (sorted[k] !== sorted[k - 1]) d++;
  return d;
}

/** Number of entries of the sorted array `e` that are < x. */
function lowerBound(e: Float32Array, x: number): number {
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Growable flat node arrays of a forest under construction. */
class NodeArrays {
  feature: number[] = [];
  threshold: number[] = [];
  /** The split bin (training only: rows are routed on bins). */
  bin: number[] = [];
  child: number[] = [];
  value: number[] = [];

  add(): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.bin.push(0);
    this.child.push(-1);
    this.value.push(0);
    return this.feature.length - 1;
  }
}

interface Open {
  node: number;
  start: number;
  end: number;
  sum: number;
  hist: Float64Array;
}

/** Fits boosted trees to y from X (row-major, nFeatures per row). `onTree` gets the training RMSE after each tree. */
export function trainGbdt(
  X: Float32Array,
  nFeatures: number,
  y: Float32Array,
  p: GbdtParams,
  onTree?: (tree: number, trees: number, rmse: number) => void,
): Forest {
  const n = y.length;
  const F = nFeatures;
  if (X.length !== n * F) throw new DataError(`${X.length} feature values for ${n} rows of ${F} features`);
  if (n === 0) throw new DataError("cannot fit trees on no rows");
  if (!(p.bins >= 2 && p.bins <= 256)) throw new DataError(`bins must be from 2 to 256 (got ${p.bins})`);
  const B = p.bins;
  const { bins, edges } = binFeatures(X, F, B);
  let base = 0;
  for (let r = 0; r < n; r++) base += y[r]!;
  base /= n;
  const pred = new Float64Array(n).fill(base);
  const resid = new Float64Array(n);
  const idx = new Int32Array(n);
  const scratch = new Int32Array(n);
  const nodes = new NodeArrays();
  const roots: number[] = [];
  const rng = new Rng(p.seed);
  const pool: Float64Array[] = [];
  const takeHist = () => pool.pop()?.fill(0) ?? new Float64Array(F * B * 2);

  const featureOffset = Int32Array.from({ length: F }, (_, f) => f * B * 2);
  const fillHist = (h: Float64Array, start: number, end: number) => {
    for (let k = start; k < end; k++) {
      const r = idx[k]!;
      const g = resid[r]!;
      let o = r * F;
      for (let f = 0; f < F; f++) {
        const at = featureOffset[f]! + 2 * bins[o++]!;
        h[at] += g;
        h[at + 1]++;
      }
    }
  };

  const makeLeaf = (o: Open) => {
    nodes.value[o.node] = (p.lr * o.sum) / (o.end - o.start + p.l2);
    pool.push(o.hist);
  };

  for (let t = 0; t < p.trees; t++) {
    let m = 0;
    for (let r = 0; r < n; r++) {
      if (p.subsample >= 1 || rng.next() < p.subsample) idx[m++] = r;
      resid[r] = y[r]! - pred[r]!;
    }
    const root = nodes.add();
    roots.push(root);
    if (m === 0) continue;
    let sum = 0;
    for (let k = 0; k < m; k++) sum += resid[idx[k]!]!;
    const rootHist = takeHist();
    fillHist(rootHist, 0, m);
    let level: Open[] = [{ node: root, start: 0, end: m, sum, hist: rootHist }];
    for (let d = 0; d < p.depth && level.length > 0; d++) {
      const next: Open[] = [];
      for (const o of level) {
        const s = bestSplit(o, F, B, edges, p);
        if (!s) {
          makeLeaf(o);
          continue;
        }
        const left = nodes.add();
        nodes.add();
        nodes.feature[o.node] = s.feature;
        nodes.bin[o.node] = s.bin;
        nodes.threshold[o.node] = edges[s.feature]![s.bin]!;
        nodes.child[o.node] = left;
        if (d === p.depth - 1) {
          // The children are leaves: only their residual sums are needed, not their rows or histograms.
          const cl = leftCount(o.hist, s, B);
          nodes.value[left] = (p.lr * s.leftSum) / (cl + p.l2);
          nodes.value[left + 1] = (p.lr * (o.sum - s.leftSum)) / (o.end - o.start - cl + p.l2);
          pool.push(o.hist);
          continue;
        }
        // Stable partition: rows with bin ≤ s.bin first, in their current (increasing) order.
        let l = o.start;
        let rr = 0;
        for (let k = o.start; k < o.end; k++) {
          const r = idx[k]!;
          if (bins[r * F + s.feature]! <= s.bin) idx[l++] = r;
          else scratch[rr++] = r;
        }
        idx.set(scratch.subarray(0, rr), l);
        const a: Open = { node: left, start: o.start, end: l, sum: s.leftSum, hist: o.hist };
        const b: Open = { node: left + 1, start: l, end: o.end, sum: o.sum - s.leftSum, hist: o.hist };
        // Build the smaller child's histogram; the larger one is the parent's minus it (in place).
        const [small, large] = a.end - a.start <= b.end - b.start ? [a, b] : [b, a];
        small.hist = takeHist();
        fillHist(small.hist, small.start, small.end);
        const h = large.hist;
        for (let k = 0; k < h.length; k++) h[k] -= small.hist[k]!;
        next.push(a, b);
      }
      level = next;
    }
    for (const o of level) makeLeaf(o);
    // Move every row (sampled or not) down the new tree on its bins (node indices local to the tree).
    const size = nodes.feature.length - root;
    const tf = Int32Array.from(nodes.feature.slice(root));
    const tb = Int32Array.from(nodes.bin.slice(root));
    const tc = Int32Array.from(nodes.child.slice(root), (c) => c - root);
    const tv = Float64Array.from(nodes.value.slice(root));
    if (size === 1) for (let r = 0; r < n; r++) pred[r] += tv[0]!;
    else {
      for (let r = 0; r < n; r++) {
        const o = r * F;
        let k = 0;
        let f = tf[0]!;
        while (f >= 0) {
          k = tc[k]! + (bins[o + f]! > tb[k]! ? 1 : 0);
          f = tf[k]!;
        }
        pred[r] += tv[k]!;
      }
    }
    if (onTree) {
      let se = 0;
      for (let r = 0; r < n; r++) se += (y[r]! - pred[r]!) ** 2;
      onTree(t + 1, p.trees, Math.sqrt(se / n));
    }
  }
  return new Forest(
    F,
    base,
    Int32Array.from(roots),
    Int32Array.from(nodes.feature),
    Float32Array.from(nodes.threshold),
    Int32Array.from(nodes.child),
    Float32Array.from(nodes.value),
  );
}

/** Rows of a node on the left of split s (bins ≤ s.bin of its feature). */
function leftCount(h: Float64Array, s: { feature: number; bin: number }, B: number): number {
  let c = 0;
  for (let b = 0; b <= s.bin; b++) c += h[(s.feature * B + b) * 2 + 1]!;
  return c;
}

/** The best (feature, bin) split of a node, or null when none has positive gain with both sides ≥ minLeaf. */
function bestSplit(o: Open, F: number, B: number, edges: Float32Array[], p: GbdtParams): { feature: number; bin: number; leftSum: number } | null {
  const n = o.end - o.start;
  if (n < 2 * p.minLeaf) return null;
  const h = o.hist;
  const parent = (o.sum * o.sum) / (n + p.l2);
  let best = 1e-9 * Math.max(1, parent);
  let out: { feature: number; bin: number; leftSum: number } | null = null;
  for (let f = 0; f < F; f++) {
    const cuts = edges[f]!.length;
    let gl = 0;
    let cl = 0;
    for (let b = 0; b < cuts; b++) {
      const at = (f * B + b) * 2;
      gl += h[at]!;
      cl += h[at + 1]!;
      if (cl < p.minLeaf) continue;
      const cr = n - cl;
      if (cr < p.minLeaf) break;
      const gr = o.sum - gl;
      const gain = (gl * gl) / (cl + p.l2) + (gr * gr) / (cr + p.l2) - parent;
      if (gain > best) {
        best = gain;
        out = { feature: f, bin: b, leftSum: gl };
      }
    }
  }
  return out;
}
