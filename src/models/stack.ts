/**
 * Stacking with gradient-boosted trees (the case study's final model; the Prize teams' later
 * blends, Töscher, Jahrer, Bell 2009 §3): boosted regression trees (gbdt.ts) over the 13
 * hand-made features of stack-features.ts (averages, similar users' ratings of the movie, the
 * user's ratings of similar movies), the user's and movie's log rating counts (support=counts,
 * the Prize teams' favourite meta-features) and the predictions of base models.
 *
 * Without leakage: the training data is cut into `folds` seeded random parts; for each part, the
 * base models are fitted on the other parts and predict it, and its features are computed from
 * the other parts — so every training rating gets a row the way a test rating will. The trees
 * learn from those out-of-fold rows. Then the base models are refitted, and the features'
 * averages and neighbour lists recomputed, on all the training data, for prediction.
 *
 * Unknown users or movies get the averages in their features and the base models' fallbacks.
 */
import { split } from "../data/split.js";
import { StopRequested } from "../engine/scheduler.js";
import { DataError, type Dataset } from "../data/types.js";
import { basePredictions, CombiningModel, createBases, datasetPredictions, fitBases, type BaseSpec } from "./ensemble.js";
import { Forest, trainGbdt, type GbdtParams } from "./gbdt.js";
import type { ArrayData } from "./io.js";
import type { FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";
import { SIMILARITY_KINDS, type SimilarityKind } from "./similarity.js";
import {
  featureSource, HAND_FEATURES, handFeatures, sourceArrays, sourceFromArrays, SUPPORT_FEATURES, supportFeatures,
  type FeatureSource, type NeighbourOptions,
} from "./stack-features.js";

export const STACK_PARAMS: ParamSpec[] = [
  {
    name: "bases",
    kind: "text",
    default: "baseline,mf,knn-item,svdpp,timesvdpp",
    probe: "baseline",
    help: 'base models whose predictions are features, comma-separated, each with optional :name=value parameters',
  },
  { name: "trees", kind: "int", default: 100, min: 1, max: 100_000, probe: 30, help: "boosting rounds (trees)" },
  { name: "depth", kind: "int", default: 4, min: 1, max: 16, probe: 2, help: "depth of each tree" },
  { name: "lr", kind: "float", default: 0.1, min: 0, minExclusive: true, max: 1, help: "shrinkage: each tree's contribution is multiplied by this" },
  { name: "minLeaf", kind: "int", default: 50, min: 1, probe: 5, help: "fewest training rows in a leaf" },
  { name: "l2", kind: "float", default: 1, min: 0, probe: 200, help: "L2 penalty on leaf values (pseudo-rows at 0)" },
  { name: "subsample", kind: "float", default: 0.8, min: 0, minExclusive: true, max: 1, probe: 0.5, help: "share of rows each tree is fitted on (seeded)" },
  { name: "maxBins", kind: "int", default: 64, min: 2, max: 256, probe: 8, help: "histogram bins per feature of the trees" },
  { name: "folds", kind: "int", default: 3, min: 2, max: 20, probe: 2, help: "out-of-fold parts the trees' training rows come from" },
  { name: "neighbours", kind: "int", default: 50, min: 5, max: 1000, probe: 10, help: "neighbour list length searched for the 5 most similar users / movies" },
  { name: "support", kind: "choice", choices: ["counts", "none"], default: "counts", help: "also give the trees log rating counts of the user and movie" },
  { name: "sim", kind: "choice", choices: [...SIMILARITY_KINDS], default: "pearson-baseline", help: "similarity of the neighbour lists (shrinkage 100, min support 2)" },
  { name: "seed", kind: "int", default: 1, min: 0, max: 2 ** 32 - 1, help: "random seed (folds, row samples)" },
];

/** The neighbour lists behind the sur/smr features (shrinkage and min support as the case study's KNNBaseline). */
function neighbourOptions(p: { neighbours: number; sim: SimilarityKind }): NeighbourOptions {
  return { k: p.neighbours, sim: p.sim, shrinkage: 100, minSupport: 2 };
}

/** Rows per feature batch at prediction time (bounds the feature matrix). */
const PREDICT_CHUNK = 1 << 16;

/** Names of the trees' input columns: the hand-made features, the support features (if used), one per base model. */
export function stackFeatureNames(support: boolean, bases: string[]): string[] {
  return [...HAND_FEATURES, ...(support ? SUPPORT_FEATURES : []), ...bases.map((b, k) => `${b}#${k + 1}`)];
}

/**
 * The trees' input rows for pairs (u, i), columns as `stackFeatureNames`: features from `src`,
 * then the base models' estimates `preds` (one array per base model, one estimate per pair).
 */
export function stackFeatures(src: FeatureSource, preds: Float32Array[], support: boolean, u: Int32Array, i: Int32Array, X: Float32Array): void {
  const before = HAND_FEATURES.length + (support ? SUPPORT_FEATURES.length : 0);
  const F = before + preds.length;
  handFeatures(src, u, i, X, F, 0);
  if (support) supportFeatures(src, u, i, X, F, HAND_FEATURES.length);
  preds.forEach((pred, k) => {
    for (let q = 0; q < pred.length; q++) X[q * F + before + k] = pred[q]!;
  });
}

/**
 * The trees' training rows, out of fold: for each of `folds` random parts of `train`, the base
 * models are fitted on the other parts and the features computed from them. Rows come part by
 * part (part 1's ratings first, in their order within `train`), with their ratings as targets.
 */
export async function outOfFoldRows(
  train: Dataset,
  specs: BaseSpec[],
  o: { folds: number; seed: number; neighbours: NeighbourOptions; support: boolean },
  fit: FitOptions = {},
): Promise<{ X: Float32Array; y: Float32Array; nFeatures: number }> {
  const F = stackFeatureNames(o.support, specs.map((s) => s.algo)).length;
  const n = train.ratings.user.length;
  if (n < o.folds) throw new DataError(`gbdt-stack needs at least ${o.folds} ratings for ${o.folds} folds (got ${n})`);
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  let row = 0;
  for (const part of split(train, { method: "kfold", folds: o.folds, seed: o.seed })) {
    const held = part.test.ratings;
    const bases = await createBases("gbdt-stack bases", specs);
    await fitBases(bases, part.train, fit);
    const rows = X.subarray(row * F, (row + held.user.length) * F);
    stackFeatures(await featureSource(part.train, o.neighbours), datasetPredictions(bases, part.test), o.support, held.user, held.movie, rows);
    y.set(held.rating, row);
    row += held.user.length;
  }
  return { X, y, nFeatures: F };
}

export class GbdtStack extends CombiningModel {
  readonly algo = "gbdt-stack";
  private forest: Forest | null = null;
  private source: FeatureSource | null = null;

  spec() {
    return {
      algo: "gbdt-stack",
      description: "gradient-boosted trees over 13 hand-made features, support counts and base models' out-of-fold predictions",
      params: STACK_PARAMS,
    };
  }

  /** Names of the trees' input columns: the hand-made features, the support features (with support=counts), one per base model. */
  get featureNames(): string[] {
    return stackFeatureNames(this.params.support === "counts", this.bases.map((m) => m.algo));
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const p = this.params as { folds: number; neighbours: number; sim: SimilarityKind; support: string; maxBins: number; seed: number } & Omit<GbdtParams, "seed" | "bins">;
    const nb = neighbourOptions(p);
    const { X, y, nFeatures } = await outOfFoldRows(train, this.baseSpecs(), { folds: p.folds, seed: p.seed, neighbours: nb, support: p.support === "counts" }, opts);
    const t0 = performance.now();
    const gbdt: GbdtParams = { trees: p.trees, depth: p.depth, lr: p.lr, minLeaf: p.minLeaf, l2: p.l2, subsample: p.subsample, bins: p.maxBins, seed: p.seed };
    this.forest = trainGbdt(X, nFeatures, y, gbdt, (tree, trees, rmse) => {
      if (opts.signal?.aborted) throw new StopRequested();
      opts.onEpoch?.({ epoch: tree, epochs: trees, trainRmse: rmse, validRmse: null, seconds: (performance.now() - t0) / 1000 });
    });
    this.bases = await this.newBases();
    await fitBases(this.bases, train, opts);
    this.source = await featureSource(train, nb);
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    this.predictRows(u, i, (from, to) => basePredictions(this.bases, u.subarray(from, to), i.subarray(from, to)), out);
  }

  /** Estimates for the ratings of `ds`, each base model predicting on the ratings' days. */
  override predictDataset(ds: Dataset): Float32Array {
    const { u, i } = this.alignIds(ds);
    const preds = datasetPredictions(this.bases, ds);
    const out = new Float32Array(u.length);
    this.predictRows(u, i, (from, to) => preds.map((p) => p.subarray(from, to)), out);
    return out;
  }

  /** The trees' estimates for pairs (u, i), in chunks (bounding the feature matrix), clipped to the rating scale. */
  private predictRows(u: Int32Array, i: Int32Array, preds: (from: number, to: number) => Float32Array[], out: Float32Array): void {
    const F = this.forest!.nFeatures;
    const support = this.params.support === "counts";
    const { min, max } = this.ratingScale;
    for (let at = 0; at < u.length; at += PREDICT_CHUNK) {
      const end = Math.min(u.length, at + PREDICT_CHUNK);
      const X = new Float32Array((end - at) * F);
      stackFeatures(this.source!, preds(at, end), support, u.subarray(at, end), i.subarray(at, end), X);
      const part = out.subarray(at, end);
      this.forest!.predict(X, part);
      for (let q = 0; q < part.length; q++) part[q] = part[q]! < min ? min : part[q]! > max ? max : part[q]!;
    }
  }

  protected override fallbackText(): string {
    return "estimated by the trees from average-padded features and the base models' fallbacks";
  }

  protected ownState() {
    const arrays: Record<string, ArrayData> = {};
    for (const [k, v] of Object.entries(this.forest!.toArrays())) arrays[`forest.${k}`] = v;
    for (const [k, v] of Object.entries(sourceArrays(this.source!))) arrays[`source.${k}`] = v;
    return { arrays, scalars: {} };
  }

  protected restoreOwn(arrays: Record<string, ArrayData>): void {
    const under = (prefix: string) =>
      Object.fromEntries(Object.entries(arrays).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    this.forest = Forest.fromArrays(under("forest."));
    this.source = sourceFromArrays(under("source."));
  }
}
