/**
 * SlopeOne (Lemire & Maclachlan 2005, "Slope One predictors for online rating-based collaborative
 * filtering"; Surprise's SlopeOne):
 *
 *   c(i,j)   = |U_ij|, the users who rated both i and j;  dev(i,j) = Σ_{u∈U_ij} (r_ui − r_uj) / c(i,j)
 *   R(u,i)   = the movies j ≠ i rated by u with c(i,j) ≥ minSupport
 *
 *   scheme "weighted" (weighted SlopeOne):  r̂(u,i) = Σ_{j∈R(u,i)} (dev(i,j) + r_uj)·c(i,j) / Σ_{j∈R(u,i)} c(i,j)
 *   scheme "plain" (Surprise's SlopeOne):   r̂(u,i) = μ_u + Σ_{j∈R(u,i)} dev(i,j) / |R(u,i)|
 *
 * with μ_u the user's mean rating, and r̂ = μ_u when R(u,i) is empty. Unknown users get the movie's
 * mean rating, unknown movies the user's mean.
 *
 * dev and c are kept for every pair i < j in packed upper triangles (f32 deviations and i32
 * counts: 8 bytes per pair, 1.26 GB for the 17,770 Netflix movies), computed by row ranges of
 * co-rating sums on the engine (assembly/slopeone.ts), on worker threads for large problems.
 */
import { Engine, type SlopeOneTriangle } from "../abi/kernels.js";
import { MAX_PAGES, PAGE_BYTES } from "../abi/wasm.js";
import { csrPair, type Csr } from "../data/csr.js";
import type { Dataset } from "../data/types.js";
import { EnginePool } from "../engine/pool.js";
import { slopeOneTask } from "../engine/similarity-tasks.js";
import type { ArrayData } from "./io.js";
import { mean } from "./means.js";
import { Model, type FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";
import { autoThreads, coRatingBytes, loadCoRatings, ratingMeans, ratingsByUser, rowRanges, runInSlots, upperWork } from "./similarity.js";

const SLOPEONE_PARAMS: ParamSpec[] = [
  { name: "scheme", kind: "choice", choices: ["weighted", "plain"], default: "weighted", help: "weighted SlopeOne (by co-rating counts) or Surprise's plain average of deviations" },
  { name: "minSupport", kind: "int", default: 1, min: 1, max: 1_000_000, probe: 30, help: "movie pairs with fewer co-ratings are not used" },
];

interface SlopeOneArrays {
  mu: number;
  ratings: Csr;
  dev: Float32Array;
  count: Int32Array;
  userMean: Float32Array;
  movieMean: Float32Array;
}

export class SlopeOne extends Model {
  readonly algo = "slopeone";
  private data: SlopeOneArrays | null = null;
  private predictor: { engine: Engine; user: Parameters<Engine["slopeOnePredict"]>[2]; tri: SlopeOneTriangle } | null = null;

  spec() {
    return { algo: "slopeone", description: "SlopeOne: average rating deviations between movies (weighted or plain)", params: SLOPEONE_PARAMS };
  }

  protected async fitDense(train: Dataset, _opts: FitOptions): Promise<void> {
    const ratings = ratingsByUser(train);
    const { dev, count } = await deviations(ratings);
    const { userMean, movieMean } = ratingMeans(ratings);
    this.data = { mu: mean(ratings.val), ratings, dev, count, userMean, movieMean };
    await this.ready();
  }

  override async ready(): Promise<void> {
    this.predictor?.engine.close();
    const d = this.data!;
    const r = d.ratings;
    const bytes = 4 * (r.nRows + 1 + 2 * r.idx.length) + 8 * d.dev.length + (16 << 20);
    const engine = await Engine.create({ bytes, maximumBytes: Math.min(MAX_PAGES * PAGE_BYTES, bytes + (256 << 20)) });
    const { arena } = engine;
    this.predictor = {
      engine,
      user: { nRows: r.nRows, nCols: r.nCols, ptr: arena.copyIn(r.ptr), idx: arena.copyIn(r.idx), val: arena.copyIn(r.val) },
      tri: { dev: arena.copyIn(d.dev), count: arena.copyIn(d.count) },
    };
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    const d = this.data!;
    const known: number[] = [];
    for (let t = 0; t < u.length; t++) if (u[t]! >= 0 && i[t]! >= 0) known.push(t);
    const { engine, user, tri } = this.predictor!;
    const weighted = this.params.scheme === "weighted";
    const sums = engine.slopeOnePredict(
      Int32Array.from(known, (t) => u[t]!), Int32Array.from(known, (t) => i[t]!), user, tri, this.params.minSupport as number, weighted,
    );
    const { min, max } = this.ratingScale;
    for (let t = 0; t < u.length; t++) out[t] = fallback(d, u[t]!, i[t]!);
    known.forEach((t, q) => {
      const den = sums.den[q]!;
      if (den > 0) out[t] = weighted ? sums.num[q]! / den : d.userMean[u[t]!]! + sums.num[q]! / den;
    });
    for (let t = 0; t < u.length; t++) out[t] = Math.min(max, Math.max(min, out[t]!));
  }

  protected override fallbackText(userKnown: boolean, movieKnown: boolean): string {
    if (userKnown) return "estimated by the user's mean rating";
    return movieKnown ? "estimated by the movie's mean rating" : "estimated by the global mean";
  }

  protected state() {
    const d = this.data!;
    return {
      arrays: {
        ratingsPtr: d.ratings.ptr, ratingsIdx: d.ratings.idx, ratingsVal: d.ratings.val,
        dev: d.dev, count: d.count, userMean: d.userMean, movieMean: d.movieMean,
      } as Record<string, ArrayData>,
      scalars: { mu: d.mu },
    };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    const userMean = arrays.userMean as Float32Array;
    const movieMean = arrays.movieMean as Float32Array;
    this.data = {
      mu: scalars.mu!,
      ratings: { nRows: userMean.length, nCols: movieMean.length, ptr: arrays.ratingsPtr as Int32Array, idx: arrays.ratingsIdx as Int32Array, val: arrays.ratingsVal as Float32Array },
      dev: arrays.dev as Float32Array,
      count: arrays.count as Int32Array,
      userMean,
      movieMean,
    };
  }
}

/** The estimate without the pair's deviations: the user's mean, else the movie's, else μ. */
function fallback(d: SlopeOneArrays, u: number, i: number): number {
  if (u >= 0) return d.userMean[u]!;
  return i >= 0 ? d.movieMean[i]! : d.mu;
}

/** dev and c for every movie pair i < j (packed upper triangles), by row ranges on the engine pool. */
async function deviations(ratings: Csr): Promise<{ dev: Float32Array; count: Int32Array }> {
  const pair = csrPair(ratings);
  const n = ratings.nCols;
  const pairs = (n * (n - 1)) / 2;
  const work = upperWork(pair);
  const threads = autoThreads(work.total);
  const bytes = coRatingBytes(pair) + 8 * pairs + 16 * n * threads + (1 << 20);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  try {
    const { arena } = engine;
    const layout = { ...loadCoRatings(engine, pair), tri: arena.array("f32", pairs) };
    const count = arena.array("i32", pairs);
    const accs = Array.from({ length: threads }, () => arena.zeros("f32", 4 * n));
    const tasks = rowRanges(work.perRow, threads).map(([r0, r1]) => (slot: number) => slopeOneTask(layout, count, r0, r1, accs[slot]!));
    const pool = EnginePool.create(engine, threads === 1 ? { inline: true } : { threads });
    try {
      await runInSlots(pool, tasks, threads, () => {});
    } finally {
      await pool.destroy();
    }
    return { dev: arena.copyOut(layout.tri), count: arena.copyOut(count) };
  } finally {
    engine.close();
  }
}
