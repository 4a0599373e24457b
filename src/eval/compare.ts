/**
 * The model comparison table: several algorithms fitted and scored on the same split(s), one row
 * per algorithm — training and test RMSE, MAE, MAPE, fit and predict seconds, and the ranking
 * metrics of its top-k recommendations — averaged over the parts (folds) of the split.
 */
import { split } from "../data/split.js";
import type { Dataset } from "../data/types.js";
import { parseModelList, type BaseSpec } from "../models/ensemble.js";
import type { Params } from "../models/params.js";
import { algorithmNames, createModel } from "../models/registry.js";
import { evaluateModel } from "./evaluate.js";
import { rankingMetrics, RANKING_DEFAULTS, type RankingScores } from "./ranking.js";

export type CompareSplit = "temporal" | "probe" | "cv";

export interface ComparePart {
  name: string;
  train: Dataset;
  test: Dataset;
}

export interface CompareRow {
  algo: string;
  params: Params;
  trainRmse: number;
  rmse: number;
  mae: number;
  mape: number;
  fitSeconds: number;
  predictSeconds: number;
  /** `precision@k`, `recall@k`, `ndcg@k`, `map@k`, `coverage@k` (absent without ranking). */
  [metric: `${string}@${number}`]: number;
}

export interface CompareOptions {
  /** Score top-k recommendations too (default true). */
  ranking?: boolean;
  k?: number;
  /** Ranking metrics over at most this many test users per part (seeded sample; 0 = all). */
  maxUsers?: number;
  seed?: number;
  /** Called when an algorithm starts on a part (index 0-based). */
  onPart?: (algo: string, part: string, index: number, parts: number) => void;
  /** Called when an algorithm's row is complete (index 0-based). */
  onRow?: (row: CompareRow, index: number, total: number) => void;
}

/** Training ratings above which `defaultAlgos` leaves out the algorithms in SLOW_ON_LARGE. */
export const LARGE_TRAIN = 2_000_000;
/**
 * Left out of the default comparison on large data: user–user neighbourhoods (a similarity row
 * per user), and the combining models, which fit every base model two or more times.
 */
export const SLOW_ON_LARGE = ["knn-user", "gbdt-stack", "blend"];

/** Every registered algorithm, less SLOW_ON_LARGE when the training part holds more than LARGE_TRAIN ratings. */
export function defaultAlgos(nTrain: number): BaseSpec[] {
  return algorithmNames()
    .filter((a) => nTrain <= LARGE_TRAIN || !SLOW_ON_LARGE.includes(a))
    .map((algo) => ({ algo, params: {} }));
}

/** Parses `--algos` ("baseline,mf:factors=50,...") and checks every name and parameter before any fitting. */
export function parseAlgos(text: string): BaseSpec[] {
  const specs = parseModelList("--algos", text);
  for (const s of specs) createModel(s.algo, s.params);
  return specs;
}

/** The parts of a split of one dataset: temporal 80/20, each user's last 5 by date, or 5 random folds. */
export function splitParts(ds: Dataset, how: CompareSplit, seed = 1): ComparePart[] {
  if (how === "cv") return split(ds, { method: "kfold", folds: 5, seed });
  return split(ds, how === "temporal" ? { method: "temporal", ratio: 0.8, seed } : { method: "probe", last: 5, seed });
}

/** Fits and scores each algorithm on each part; a row holds the means over the parts. */
export async function compareModels(parts: ComparePart[], algos: BaseSpec[], opts: CompareOptions = {}): Promise<CompareRow[]> {
  const ranking = opts.ranking ?? true;
  const k = opts.k ?? RANKING_DEFAULTS.k;
  const rows: CompareRow[] = [];
  for (const [index, spec] of algos.entries()) {
    const sums = new Map<string, number>();
    const add = (key: string, v: number) => sums.set(key, (sums.get(key) ?? 0) + v);
    let params: Params = {};
    for (const [p, part] of parts.entries()) {
      opts.onPart?.(spec.algo, part.name, p, parts.length);
      const model = createModel(spec.algo, spec.params);
      params = model.params;
      const t0 = performance.now();
      await model.fit(part.train);
      add("fitSeconds", (performance.now() - t0) / 1000);
      const t1 = performance.now();
      const test = evaluateModel(model, part.test);
      add("predictSeconds", (performance.now() - t1) / 1000);
      add("trainRmse", evaluateModel(model, part.train).rmse);
      add("rmse", test.rmse);
      add("mae", test.mae);
      add("mape", test.mape);
      if (ranking) {
        const r = rankingMetrics(model, part.test, { k, maxUsers: opts.maxUsers ?? RANKING_DEFAULTS.maxUsers, seed: opts.seed ?? RANKING_DEFAULTS.seed });
        for (const [key, v] of Object.entries(rankingColumns(r))) add(key, v);
      }
    }
    const mean = (key: string) => sums.get(key)! / parts.length;
    const row: CompareRow = {
      algo: spec.algo,
      params,
      trainRmse: mean("trainRmse"),
      rmse: mean("rmse"),
      mae: mean("mae"),
      mape: mean("mape"),
      fitSeconds: mean("fitSeconds"),
      predictSeconds: mean("predictSeconds"),
    };
    for (const key of sums.keys()) if (key.includes("@")) row[key as `${string}@${number}`] = mean(key);
    rows.push(row);
    opts.onRow?.(row, index, algos.length);
  }
  return rows;
}

/** Ranking scores as table columns named by metric and k (e.g. `precision@10`). */
export function rankingColumns(r: RankingScores): Record<`${string}@${number}`, number> {
  return {
    [`precision@${r.k}`]: r.precision,
    [`recall@${r.k}`]: r.recall,
    [`ndcg@${r.k}`]: r.ndcg,
    [`map@${r.k}`]: r.map,
    [`coverage@${r.k}`]: r.coverage,
  };
}
