/**
 * k-nearest-neighbour models (Surprise's KNNBasic, KNNWithMeans and KNNBaseline; Koren 2010,
 * "Factor in the neighbors", §3 and eq. 3):
 *
 *   knn-item:  r̂(u,i) = b(u,i) + Σ_{j∈N(i;u)} s(i,j)·(r_uj − b(u,j)) / Σ_{j∈N(i;u)} s(i,j)
 *   knn-user:  r̂(u,i) = b(u,i) + Σ_{v∈N(u;i)} s(u,v)·(r_vi − b(v,i)) / Σ_{v∈N(u;i)} s(u,v)
 *
 * N(i;u) are the k movies rated by u most similar to i, N(u;i) the k users who rated i most
 * similar to u, in both cases among those with similarity s > 0 (s by `sim`: cosine, pearson,
 * pearson-baseline with `shrinkage`, msd; 0 below `minSupport` co-ratings; see similarity.ts).
 * `variant` sets b:
 *   basic     b = 0; fewer than minK neighbours: the global mean μ
 *   means     b(u,i) = the mean rating of i (knn-item) or of u (knn-user)
 *   baseline  b(u,i) = μ + b_u + b_i, fitted by ALS (`epochs`, `regU`, `regI`; also the residuals
 *             pearson-baseline correlates)
 * and with fewer than minK neighbours the estimate is b(u,i). `damping` λ ≥ 0 (means and baseline)
 * divides by λ + Σ s instead of Σ s, pulling an estimate whose neighbours are few or weakly
 * similar toward b(u,i) (λ = 0 is Surprise's estimate; λ is in units of similarity, so its
 * useful size depends on `sim` and `shrinkage`).
 *
 * knn-item keeps each movie's `neighbours` most similar movies (positive similarity, sparse lists),
 * not a similarity matrix: a prediction sees s(i,j) only for the j in i's list. With every
 * positive pair kept (neighbours ≥ the number of movies) it is Surprise's estimate exactly; the
 * default 300 gave the same validation RMSE on MovieLens 100K as keeping every pair (100: +0.001),
 * and is 42 MB of lists for the 17,770 Netflix movies.
 * knn-user keeps the ratings and computes the similarities of each user it predicts for on demand
 * (one row of users per user, by co-ratings over the by-movie layout; never users × users).
 *
 * Unknown users or movies get the parts of b(u,i) that exist (basic: μ).
 */
import { Engine, type CsrRegions } from "../abi/kernels.js";
import { csrPair, type Csr } from "../data/csr.js";
import type { Dataset, RawId } from "../data/types.js";
import type { ArrayData } from "./io.js";
import { mean } from "./means.js";
import { Model, type FitOptions, type SimilarItems } from "./model.js";
import type { ParamSpec } from "./params.js";
import {
  fitBiases, neighboursOf, ratingMeans, ratingsByUser, SIMILARITY_KINDS, Similarity, type Biases, type Neighbours, type SimilarityKind,
} from "./similarity.js";

type Variant = "basic" | "means" | "baseline";

const BASELINE = { param: "variant", values: ["baseline"] };
const PEARSON_BASELINE = { param: "sim", values: ["pearson-baseline"] };
const CENTRED = { param: "variant", values: ["baseline", "means"] };

/**
 * Defaults chosen on a random validation part (10%) of each MovieLens 100K training fold (never
 * their test files); Surprise's defaults are shrinkage 100, regU 15, regI 10, epochs 10, damping 0.
 */
const DEFAULTS = {
  item: { damping: 0.03, shrinkage: 1000, epochs: 20, regU: 3, regI: 3 },
  user: { damping: 0.1, shrinkage: 300, epochs: 20, regU: 5, regI: 10 },
} as const;

/** Hyperparameters shared by knn-user and knn-item. */
function knnParams(side: "item" | "user"): ParamSpec[] {
  const neighbour = side === "item" ? "movies rated by the user" : "users who rated the movie";
  const d = DEFAULTS[side];
  return [
    { name: "variant", kind: "choice", choices: ["basic", "means", "baseline"], default: "baseline", help: "what neighbours' ratings deviate from: nothing, means, or the baseline μ + b_u + b_i" },
    { name: "sim", kind: "choice", choices: [...SIMILARITY_KINDS], default: "pearson-baseline", help: "similarity measure" },
    { name: "k", kind: "int", default: 40, min: 1, max: 100_000, probe: 5, help: `neighbours used per prediction (the most similar ${neighbour})` },
    { name: "minK", kind: "int", default: 1, min: 1, max: 100_000, probe: 30, help: "fewer neighbours than this: predict the baseline (or means; basic: the global mean)" },
    { name: "minSupport", kind: "int", default: 1, min: 1, max: 1_000_000, probe: 30, help: "pairs with fewer co-ratings have similarity 0" },
    { name: "damping", kind: "float", default: d.damping, min: 0, probe: 0, when: CENTRED, help: "added to the sum of similarities that divides the neighbours' deviations: pulls weakly supported estimates toward b(u,i) (0: Surprise's estimate)" },
    { name: "shrinkage", kind: "float", default: d.shrinkage, min: 0, probe: 0, when: PEARSON_BASELINE, help: "pearson-baseline shrinkage: ρ·(n − 1)/(n − 1 + shrinkage)" },
    { name: "epochs", kind: "int", default: d.epochs, min: 1, max: 10_000, probe: 1, when: BASELINE, help: "ALS passes of the baseline (also for sim=pearson-baseline)" },
    { name: "regU", kind: "float", default: d.regU, min: 0, probe: 20, when: BASELINE, help: "ALS regularization of user biases (also for sim=pearson-baseline)" },
    { name: "regI", kind: "float", default: d.regI, min: 0, probe: 20, when: BASELINE, help: "ALS regularization of movie biases (also for sim=pearson-baseline)" },
  ];
}

interface KnnSettings {
  variant: Variant;
  sim: SimilarityKind;
  k: number;
  minK: number;
  minSupport: number;
  damping: number;
  shrinkage: number;
  epochs: number;
  regU: number;
  regI: number;
}

/** What both sides keep: the ratings (CSR by user), the baseline and the means. */
interface KnnState {
  ratings: Csr;
  biases: Biases;
  userMean: Float32Array;
  movieMean: Float32Array;
}

abstract class Knn extends Model {
  protected data: KnnState | null = null;
  private sums: NeighbourSums | null = null;

  protected get settings(): KnnSettings {
    return this.params as unknown as KnnSettings;
  }

  protected async fitDense(train: Dataset, _opts: FitOptions): Promise<void> {
    const p = this.settings;
    const ratings = ratingsByUser(train);
    const needsBaseline = p.variant === "baseline" || p.sim === "pearson-baseline";
    const biases = needsBaseline
      ? await fitBiases(train, { epochs: p.epochs, regU: p.regU, regI: p.regI })
      : { mu: mean(ratings.val), bu: new Float32Array(ratings.nRows), bi: new Float32Array(ratings.nCols) };
    const { userMean, movieMean } = ratingMeans(ratings);
    this.data = { ratings, biases, userMean, movieMean };
    await this.fitSimilarity();
    await this.ready();
  }

  /** knn-item: every movie's neighbour lists; knn-user: nothing (similarities on demand). */
  protected abstract fitSimilarity(): Promise<void>;
  /** The candidate CSR of knn sums: rows the pair's other side, entries (neighbour, value). */
  protected abstract candidates(s: KnnState): Csr;
  /** Each pair's knn sums into num/den/count (only pairs with u, i ≥ 0 are listed in `pairs`). */
  protected abstract aggregate(sums: NeighbourSums, u: Int32Array, i: Int32Array, pairs: Int32Array, out: KnnSums): void;

  override async ready(): Promise<void> {
    this.sums?.close();
    this.sums = await NeighbourSums.create(this.candidates(this.data!));
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    const s = this.data!;
    const p = this.settings;
    const known: number[] = [];
    for (let t = 0; t < u.length; t++) if (u[t]! >= 0 && i[t]! >= 0) known.push(t);
    const pairs = Int32Array.from(known);
    const sums: KnnSums = { num: new Float64Array(u.length), den: new Float64Array(u.length), count: new Int32Array(u.length) };
    if (pairs.length > 0) this.aggregate(this.sums!, u, i, pairs, sums);
    const { min, max } = this.ratingScale;
        for (let t = 0; t < u.length; t++) {
      const base = this.base(s, u[t]!, i[t]!);
      let est = base;
      if (sums.count[t]! >= p.minK && sums.den[t]! > 0) {
        est = p.variant === "basic" ? sums.num[t]! / sums.den[t]! : base + sums.num[t]! / (sums.den[t]! + p.damping);
      }
      out[t] = est < min ? min : est > max ? max : est;
    }
  }

  /** b(u, i) of the variant, from the parts that exist (u or i may be −1); basic: μ. */
  private base(s: KnnState, u: number, i: number): number {
    const { mu, bu, bi } = s.biases;
    switch (this.settings.variant) {
      case "baseline":
        return mu + (u >= 0 ? bu[u]! : 0) + (i >= 0 ? bi[i]! : 0);
      case "means":
        return this.meanOf(s, u, i) ?? mu;
      default:
        return mu;
    }
  }

  /** The mean this side's means variant centres on (the movie's for knn-item, the user's for knn-user). */
  protected abstract meanOf(s: KnnState, u: number, i: number): number | null;

  /** A neighbour's rating r of movie i by user u as the variant uses it: r − b(u, i) (basic: r). */
  protected deviation(s: KnnState, u: number, i: number, r: number): number {
    switch (this.settings.variant) {
      case "baseline":
        return r - (s.biases.mu + s.biases.bu[u]! + s.biases.bi[i]!);
      case "means":
        return r - (this.meanSide() === "user" ? s.userMean[u]! : s.movieMean[i]!);
      default:
        return r;
    }
  }

  protected override fallbackText(userKnown: boolean, movieKnown: boolean): string {
    const v = this.settings.variant;
    if (v === "basic" || (!userKnown && !movieKnown)) return "estimated by the global mean μ";
    if (v === "baseline") return userKnown ? "estimated by μ + b_u (no movie terms)" : "estimated by μ + b_i (the movie's baseline)";
    const known = this.meanSide() === "movie" ? movieKnown : userKnown;
    return known ? `estimated by the ${this.meanSide()}'s mean rating` : "estimated by the global mean μ";
  }

  protected abstract meanSide(): "user" | "movie";

  /** Neighbours only: movies with similarity ≤ 0 (or outside knn-item's kept lists) are left out. */
  override similarItems(movieIds: RawId[], opts: { n?: number } = {}): SimilarItems[] {
    return super.similarItems(movieIds, opts).map((s) => {
      const n = s.scores.findIndex((x) => !(x > 0));
      if (n < 0) return s;
      return { ...s, movieIds: s.movieIds.slice(0, n), titles: s.titles.slice(0, n), scores: s.scores.slice(0, n) };
    });
  }

  protected state() {
    const s = this.data!;
    return {
      arrays: {
        ratingsPtr: s.ratings.ptr, ratingsIdx: s.ratings.idx, ratingsVal: s.ratings.val,
        bu: s.biases.bu, bi: s.biases.bi, userMean: s.userMean, movieMean: s.movieMean,
        ...this.extraState(),
      } as Record<string, ArrayData>,
      scalars: { mu: s.biases.mu },
    };
  }

  protected extraState(): Record<string, ArrayData> {
    return {};
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    const bu = arrays.bu as Float32Array;
    const bi = arrays.bi as Float32Array;
    this.data = {
      ratings: { nRows: bu.length, nCols: bi.length, ptr: arrays.ratingsPtr as Int32Array, idx: arrays.ratingsIdx as Int32Array, val: arrays.ratingsVal as Float32Array },
      biases: { mu: scalars.mu!, bu, bi },
      userMean: arrays.userMean as Float32Array,
      movieMean: arrays.movieMean as Float32Array,
    };
  }
}

export class KnnItem extends Knn {
  readonly algo = "knn-item";
  private neighbours: Neighbours | null = null;

  spec() {
    return {
      algo: "knn-item",
      description: "movie–movie k-NN (Surprise's KNNBasic / KNNWithMeans / KNNBaseline, item-based)",
      params: [
        ...knnParams("item"),
        { name: "neighbours", kind: "int", default: 300, min: 1, max: 100_000, probe: 10, help: "most similar movies kept per movie (what predictions can use)" },
      ] as ParamSpec[],
    };
  }

  protected async fitSimilarity(): Promise<void> {
    const s = this.data!;
    const p = this.settings;
    const sim = await Similarity.create(s.ratings, { sim: p.sim, minSupport: p.minSupport, shrinkage: p.shrinkage, baseline: s.biases });
    try {
      this.neighbours = await sim.topMovies(this.params.neighbours as number);
    } finally {
      await sim.close();
    }
  }

  protected candidates(s: KnnState): Csr {
    const r = s.ratings;
    const val = new Float32Array(r.val.length);
    for (let u = 0; u < r.nRows; u++) {
      for (let e = r.ptr[u]!; e < r.ptr[u + 1]!; e++) val[e] = this.deviation(s, u, r.idx[e]!, r.val[e]!);
    }
    return { ...r, val };
  }

  protected aggregate(sums: NeighbourSums, u: Int32Array, i: Int32Array, pairs: Int32Array, out: KnnSums): void {
    const nb = this.neighbours!;
    for (const [movie, group] of groupBy(i, pairs, this.nMovies)) {
      const list = neighboursOf(nb, movie);
      sums.run((row) => {
        for (let e = 0; e < list.idx.length; e++) row[list.idx[e]!] = list.score[e]!;
        row[movie] = 1;
      }, gather(u, group), this.settings.k, group, out);
    }
  }

  protected meanOf(s: KnnState, _u: number, i: number): number | null {
    return i >= 0 ? s.movieMean[i]! : null;
  }

  protected meanSide(): "movie" {
    return "movie";
  }

  /** The stored neighbour list of movie i (0 for the movies not in it). */
  protected override similarityRow(i: number, out: Float32Array): void {
    out.fill(0);
    const list = neighboursOf(this.neighbours!, i);
    for (let e = 0; e < list.idx.length; e++) out[list.idx[e]!] = list.score[e]!;
  }

  protected override extraState(): Record<string, ArrayData> {
    const nb = this.neighbours!;
    return { nbPtr: nb.ptr, nbIdx: nb.idx, nbScore: nb.score };
  }

  protected override restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    super.restore(arrays, scalars);
    this.neighbours = { ptr: arrays.nbPtr as Int32Array, idx: arrays.nbIdx as Int32Array, score: arrays.nbScore as Float32Array };
  }
}

export class KnnUser extends Knn {
  readonly algo = "knn-user";
  private similarity: Similarity | null = null;

  spec() {
    return {
      algo: "knn-user",
      description: "user–user k-NN (Surprise's KNNBasic / KNNWithMeans / KNNBaseline, user-based)",
      params: knnParams("user"),
    };
  }

  protected async fitSimilarity(): Promise<void> {}

  override async ready(): Promise<void> {
    await super.ready();
    const s = this.data!;
    const p = this.settings;
    await this.similarity?.close();
    this.similarity = await Similarity.create(s.ratings, { sim: p.sim, minSupport: p.minSupport, shrinkage: p.shrinkage, baseline: s.biases });
  }

  protected candidates(s: KnnState): Csr {
    // By movie: each movie's raters v with r_vi − b(v, i).
    const { byMovie, movieToUser } = csrPair(s.ratings);
    const val = new Float32Array(byMovie.val.length);
    for (let i = 0; i < byMovie.nRows; i++) {
      for (let e = byMovie.ptr[i]!; e < byMovie.ptr[i + 1]!; e++) val[e] = this.deviation(s, byMovie.idx[e]!, i, s.ratings.val[movieToUser[e]!]!);
    }
    return { ...byMovie, val };
  }

  protected aggregate(sums: NeighbourSums, u: Int32Array, i: Int32Array, pairs: Int32Array, out: KnnSums): void {
    const groups = [...groupBy(u, pairs, this.nUsers)];
    const block = Math.max(1, Math.floor(USER_ROWS_BYTES / (4 * this.nUsers)));
    for (let at = 0; at < groups.length; at += block) {
      const part = groups.slice(at, at + block);
      const rows = this.similarity!.userRows(Int32Array.from(part, ([user]) => user));
      part.forEach(([, group], r) => {
        sums.run((row) => row.set(rows.subarray(r * this.nUsers, (r + 1) * this.nUsers)), gather(i, group), this.settings.k, group, out);
      });
    }
  }

  protected meanOf(s: KnnState, u: number, _i: number): number | null {
    return u >= 0 ? s.userMean[u]! : null;
  }

  protected meanSide(): "user" {
    return "user";
  }

  /** Movie–movie similarity with the same settings, computed for the one movie. */
  protected override similarityRow(i: number, out: Float32Array): void {
    out.set(this.similarity!.movieRow(i));
  }
}

/** Dense user rows computed at once by knn-user (bounds the memory of a large batch). */
const USER_ROWS_BYTES = 64 << 20;

interface KnnSums {
  num: Float64Array;
  den: Float64Array;
  count: Int32Array;
}

/**
 * The knn sums kernel over one candidate CSR in its own engine: for a query's similarity row
 * (filled by the caller) and the rows of its pairs, Σ s·v, Σ s and the neighbour count.
 */
class NeighbourSums {
  private constructor(
    private readonly engine: Engine,
    private readonly cand: CsrRegions,
    private readonly sim: { ptr: number; length: number; dtype: "f32" },
  ) {}

  static async create(cand: Csr): Promise<NeighbourSums> {
    const n = cand.idx.length;
    const bytes = 4 * (cand.nRows + 1 + 2 * n + cand.nCols) + (8 << 20);
    const engine = await Engine.create({ bytes, maximumBytes: 2 * bytes + (256 << 20) });
    const { arena } = engine;
    const regions: CsrRegions = { nRows: cand.nRows, nCols: cand.nCols, ptr: arena.copyIn(cand.ptr), idx: arena.copyIn(cand.idx), val: arena.copyIn(cand.val) };
    return new NeighbourSums(engine, regions, arena.zeros("f32", cand.nCols));
  }

  /** Fills the similarity row, aggregates rows `ys` and stores each result at out[slots[t]]. */
  run(fill: (row: Float32Array) => void, ys: Int32Array, k: number, slots: Int32Array, out: KnnSums): void {
    const row = this.engine.arena.view(this.sim);
    row.fill(0);
    fill(row);
    const r = this.engine.knnAggregate(this.sim, this.cand, ys, k);
    slots.forEach((t, q) => {
      out.num[t] = r.num[q]!;
      out.den[t] = r.den[q]!;
      out.count[t] = r.count[q]!;
    });
  }

  close(): void {
    this.engine.close();
  }
}

/** The pair indices `pairs` grouped by key[t] (each group in input order), keys ascending. */
function* groupBy(key: Int32Array, pairs: Int32Array, nKeys: number): Generator<[number, Int32Array]> {
  const start = new Int32Array(nKeys + 1);
  for (const t of pairs) start[key[t]! + 1]!++;
  for (let x = 0; x < nKeys; x++) start[x + 1]! += start[x]!;
  const fill = start.slice(0, nKeys);
  const sorted = new Int32Array(pairs.length);
  for (const t of pairs) sorted[fill[key[t]!]!++] = t;
  for (let x = 0; x < nKeys; x++) if (start[x + 1]! > start[x]!) yield [x, sorted.subarray(start[x]!, start[x + 1]!)];
}

function gather(a: Int32Array, at: Int32Array): Int32Array {
  return Int32Array.from(at, (t) => a[t]!);
}
