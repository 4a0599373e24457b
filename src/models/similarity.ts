/**
 * Movie–movie and user–user similarity from co-ratings, on the engine (assembly/similarity.ts):
 * the API the neighbourhood models, `movierec similar` and feature builders use.
 *
 *   const sim = await Similarity.fromDataset(train, { sim: "pearson-baseline", shrinkage: 100 });
 *   const nb = await sim.topMovies(40);          // every movie's 40 most similar movies
 *   neighboursOf(nb, i)                          // → { idx, score } of movie i, best first
 *   sim.movieRow(i)                              // sim(i, j) for every movie j
 *   sim.topUsers(Int32Array.of(u, v), 20)        // user–user, for the users asked only
 *   await sim.close();
 *
 * Similarities (Surprise's definitions, over the co-ratings of the pair; 0 below `minSupport`):
 * cosine, pearson, pearson-baseline (the correlation of residuals r − μ − b_u − b_i, shrunk by
 * (n − 1)/(n − 1 + shrinkage)) and msd (1 / (mean squared difference + 1)). Top-k lists keep
 * positive similarities only, best first, the row itself excluded; a row's own similarity in a
 * dense row is 1.
 *
 * Movie–movie for all movies computes the upper triangle once (each pair's co-ratings summed by
 * one row: half the work of full rows), in row ranges balanced by work and run as engine-pool
 * tasks (numbers only) on worker threads, then reads each row's top-k back from the triangle
 * (n(n − 1)/2 floats: 632 MB for the 17,770 Netflix movies). User–user is computed only for the
 * users asked, row by row: never a dense users × users matrix.
 *
 * The engine holds the movies in ascending order of rating count (faster triangle, see MovieOrder);
 * every result is given by movie index and is the same, bit for bit, as in movie-index order.
 */
import { availableParallelism } from "node:os";
import { BYTES_PER, type Dtype, type Region } from "../abi/arena.js";
import {
  ACCUMULATOR_LANES, Engine, SIMILARITY_KINDS, SIMILARITY_LAYOUT, TOPK_BLOCK,
  type CsrRegions, type KeyCsrRegions, type SimilarityKind, type SimilarityParams,
} from "../abi/kernels.js";
import { MAX_PAGES, PAGE_BYTES } from "../abi/wasm.js";
import { csrByUser, type Csr, type CsrPair } from "../data/csr.js";
import { DataError, type Dataset, type Ratings } from "../data/types.js";
import { EnginePool } from "../engine/pool.js";
import { releaseUnusedMemory } from "../engine/release.js";
import { topKTask, upperTask, type TriangleLayout } from "../engine/similarity-tasks.js";
import type { Task } from "../engine/handlers.js";
import { alsBiases, alsBiasesOnWorker } from "./baseline.js";
import { mean } from "./means.js";

export { SIMILARITY_KINDS, type SimilarityKind } from "../abi/kernels.js";

/** The baseline μ + b_u + b_i whose residuals pearson-baseline correlates. */
export interface Biases {
  mu: number;
  bu: Float32Array;
  bi: Float32Array;
}

/** ALS settings of the baseline (Baseline's method "als"). */
export interface BaselineSettings {
  epochs: number;
  regU: number;
  regI: number;
}

/** Surprise's KNNBaseline baseline settings (bsl_options defaults). */
export const SIMILARITY_BASELINE: Readonly<BaselineSettings> = { epochs: 10, regU: 15, regI: 10 };

export interface SimilarityOptions {
  /** Default "pearson-baseline". */
  sim?: SimilarityKind;
  /** Pairs with fewer co-ratings get 0 (default 1, as Surprise). */
  minSupport?: number;
  /** Pearson-baseline's shrinkage (default 100). */
  shrinkage?: number;
  /** Needed by pearson-baseline. */
  baseline?: Biases | null;
  /** Worker threads for topMovies (default: the cores for large problems, else the calling thread). */
  threads?: number;
}

/** The two phases of topMovies: the similarity triangle, then each row's top-k read from it. */
export type TopMoviesPhase = "triangle" | "top-k";

/** Sparse neighbour lists: row x's neighbours are idx/score[ptr[x] .. ptr[x+1]), best first. */
export interface Neighbours {
  ptr: Int32Array;
  idx: Int32Array;
  score: Float32Array;
}

/** Row x of a neighbour list (views, not copies). */
export function neighboursOf(nb: Neighbours, x: number): { idx: Int32Array; score: Float32Array } {
  const a = nb.ptr[x]!;
  const b = nb.ptr[x + 1]!;
  return { idx: nb.idx.subarray(a, b), score: nb.score.subarray(a, b) };
}

/** Fits μ, b_u, b_i by ALS (the `baseline` model's method) for pearson-baseline. */
export async function fitBiases(train: Dataset, s: BaselineSettings = SIMILARITY_BASELINE): Promise<Biases> {
  const biases = await alsBiases(train, s);
  // Its engine's memory (12 bytes per rating) goes back before the similarity's is allocated.
  if (train.ratings.user.length >= LARGE_RATINGS) releaseUnusedMemory();
  return biases;
}

/**
 * Starts fitBiases: on a worker thread when more than one thread may be used (explicitly, or by
 * default for a large dataset), so the caller works while it runs; else right here.
 */
async function startBiases(train: Dataset, s: BaselineSettings = SIMILARITY_BASELINE, threads?: number): Promise<{ biases: Promise<Biases> }> {
  const n = train.ratings.user.length;
  if ((threads ?? availableParallelism()) < 2 || (threads === undefined && n < LARGE_RATINGS)) return { biases: Promise.resolve(await fitBiases(train, s)) };
  const { biases } = await alsBiasesOnWorker(train, s);
  return {
    biases: biases.then((b) => {
      if (n >= LARGE_RATINGS) releaseUnusedMemory();
      return b;
    }),
  };
}

/**
 * sim(i, j) of one movie i to every movie of a dataset, computed from the ratings of i's raters
 * only (nobody else co-rates with i): one pass over the ratings, no full layout. pearson-baseline
 * fits the baseline on the whole dataset first (unless `baseline` is given).
 */
export async function movieSimilarities(
  train: Dataset, i: number, opts: SimilarityOptions & { baselineSettings?: BaselineSettings } = {},
): Promise<Float32Array> {
  const { user, movie, rating } = train.ratings;
  const nU = train.users.length;
  const nM = train.movies.length;
  if (!Number.isInteger(i) || i < 0 || i >= nM) throw new DataError(`movie index ${i} is outside 0..${nM - 1}`);
  const rater = new Uint8Array(nU);
  for (let r = 0; r < movie.length; r++) if (movie[r] === i) rater[user[r]!] = 1;
  const keep: number[] = [];
  for (let r = 0; r < user.length; r++) if (rater[user[r]!]) keep.push(r);
  const pick = <T extends Int32Array | Float32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(keep.length);
    keep.forEach((r, k) => (out[k] = a[r]!));
    return out;
  };
  const kind = opts.sim ?? "pearson-baseline";
  const baseline = opts.baseline ?? (kind === "pearson-baseline" ? await fitBiases(train, opts.baselineSettings) : null);
  const sim = await Similarity.create(csrByUser(pick(user), pick(movie), pick(rating), nU, nM), { ...opts, baseline, threads: 1 });
  try {
    return sim.movieRow(i);
  } finally {
    await sim.close();
  }
}

/** The ratings of a dataset as CSR by user (movies ascending). */
export function ratingsByUser(ds: Dataset): Csr {
  const { user, movie, rating } = ds.ratings;
  return csrByUser(user, movie, rating, ds.users.length, ds.movies.length);
}

/** Each user's and each movie's mean rating (the global mean for one without ratings). */
export function ratingMeans(r: Csr): { userMean: Float32Array; movieMean: Float32Array } {
  const userMean = new Float32Array(r.nRows);
  const sum = new Float64Array(r.nCols);
  const cnt = new Float64Array(r.nCols);
  const mu = mean(r.val);
  for (let u = 0; u < r.nRows; u++) {
    let s = 0;
    for (let e = r.ptr[u]!; e < r.ptr[u + 1]!; e++) {
      s += r.val[e]!;
      sum[r.idx[e]!]! += r.val[e]!;
      cnt[r.idx[e]!]!++;
    }
    const n = r.ptr[u + 1]! - r.ptr[u]!;
    userMean[u] = n > 0 ? s / n : mu;
  }
  const movieMean = Float32Array.from(sum, (s, i) => (cnt[i]! > 0 ? s / cnt[i]! : mu));
  return { userMean, movieMean };
}

/** Ratings from which a finished engine's memory is returned at once (a full collection costs milliseconds). */
const LARGE_RATINGS = 1_000_000;
/** Pair updates below which topMovies stays on the calling thread (worker start-up costs more). */
const PARALLEL_WORK = 50_000_000;
/** Row-range tasks per thread for the triangle: enough for the pool to balance uneven rows. */
const TASKS_PER_THREAD = 16;
/** Rows per similarityRows call. */
const ROWS_PER_CALL = 64;
/** Rows per top-k task. */
const TOPK_ROWS = 256;
/** Largest dense block of user rows held at once. */
const USER_BLOCK_BYTES = 64 << 20;
/** Largest top-k output accepted (n · k · 8 bytes). */
const MAX_TOP_BYTES = 1 << 30;

interface Side {
  key: KeyCsrRegions;
  other: CsrRegions;
  /** The calling thread's accumulator (zero between calls), similarity row and mask. */
  acc: Region<"f32">;
  out: Region<"f32">;
  mask: Region<"u8">;
}

export class Similarity {
  readonly params: SimilarityParams;
  private users: Side | null = null;
  private busy = false;

  private constructor(
    private readonly engine: Engine,
    readonly nUsers: number,
    readonly nMovies: number,
    params: SimilarityParams,
    private readonly movies: Side,
    /** Pair updates of each movie row of the upper triangle. */
    private readonly work: { perRow: Float64Array; total: number },
    /** The engine's movie rows and columns: movies by rating count (see popularityOrder). */
    private readonly order: MovieOrder,
    private readonly threads: number | undefined,
  ) {
    this.params = params;
  }

  /**
   * Over a dataset's ratings; fits the baseline by ALS (`baseline` settings) when pearson-baseline
   * needs it — on a worker thread while this thread builds the layout, when there are threads to
   * spare (the same biases either way). The layouts are written straight from the rating columns
   * into the engine.
   */
  static async fromDataset(train: Dataset, opts: SimilarityOptions & { baselineSettings?: BaselineSettings } = {}): Promise<Similarity> {
    const kind = opts.sim ?? "pearson-baseline";
    checkThreads(opts.threads);
    const fitting = opts.baseline || kind !== "pearson-baseline" ? null : await startBiases(train, opts.baselineSettings, opts.threads);
    const params = checkedParams(opts, Boolean(opts.baseline) || fitting !== null);
    const nUsers = train.users.length;
    const nMovies = train.movies.length;
    const biases = async () => checkedBaseline(params.kind, fitting ? await fitting.biases : opts.baseline ?? null, nUsers, nMovies);
    return Similarity.open(nUsers, nMovies, train.ratings.user.length, params, opts.threads,
      (engine, l) => layoutFromColumns(engine, l, train.ratings, biases));
  }

  /** Over ratings given as CSR by user (each row's movies ascending, values the ratings). */
  static async create(ratings: Csr, opts: SimilarityOptions = {}): Promise<Similarity> {
    const params = resolveSimilarity(opts);
    checkThreads(opts.threads);
    const b = checkedBaseline(params.kind, opts.baseline ?? null, ratings.nRows, ratings.nCols);
    return Similarity.open(ratings.nRows, ratings.nCols, ratings.idx.length, params, opts.threads,
      async (engine, l) => layoutFromCsr(engine, l, ratings, b));
  }

  /** An engine sized for the problem, its movie side filled by `fill` (which returns each row's work). */
  private static async open(
    nUsers: number, nMovies: number, nnz: number, params: SimilarityParams, threads: number | undefined,
    fill: (engine: Engine, l: CoRatingRegions) => Promise<{ perRow: Float64Array; order: MovieOrder }>,
  ): Promise<Similarity> {
    const lanes = ACCUMULATOR_LANES[SIMILARITY_LAYOUT[params.kind]];
    const bytes = coRatingSize(nUsers, nMovies, nnz) + (4 * lanes + 5) * nMovies + (1 << 20);
    const engine = await Engine.create({ bytes, maximumBytes: MAX_PAGES * PAGE_BYTES });
    try {
      const { arena } = engine;
      const l: CoRatingRegions = {
        key: { nRows: nMovies, nCols: nUsers, ptr: arena.array("i32", nMovies + 1), idx: arena.array("i32", nnz), cross: arena.array("i32", nnz) },
        other: { nRows: nUsers, nCols: nMovies, ptr: arena.array("i32", nUsers + 1), idx: arena.array("i32", nnz), val: arena.array("f32", nnz) },
      };
      // Each row also finalizes the columns after it.
      const { perRow, order } = await fill(engine, l);
      let total = 0;
      for (let i = 0; i < nMovies; i++) {
        perRow[i]! += nMovies - i;
        total += perRow[i]!;
      }
      const side: Side = { ...l, ...scratch(engine, nMovies, lanes) };
      return new Similarity(engine, nUsers, nMovies, params, side, { perRow, total }, order, threads);
    } catch (err) {
      engine.close();
      throw err;
    }
  }

  /** sim(i, j) for every movie j (sim(i, i) = 1). */
  movieRow(i: number): Float32Array {
    this.checkIndex("movie", i, this.nMovies);
    const { toInner } = this.order;
    return this.fromInner(this.rows(this.movies, Int32Array.of(toInner[i]!), true, 0).dense!);
  }

  /** Dense rows sim(u, v) for the given users, row-major (us.length × nUsers; sim(u, u) = 1). */
  userRows(us: Int32Array): Float32Array {
    const side = this.userSide();
    for (const u of us) this.checkIndex("user", u, this.nUsers);
    const out = new Float32Array(us.length * this.nUsers);
    const block = Math.max(1, Math.floor(USER_BLOCK_BYTES / (4 * Math.max(1, this.nUsers))));
    for (let at = 0; at < us.length; at += block) {
      const part = us.subarray(at, Math.min(us.length, at + block));
      out.set(this.rows(side, part, true, 0).dense!, at * this.nUsers);
    }
    return out;
  }

  /** The k most similar users (positive similarity, best first) of each given user. */
  topUsers(us: Int32Array, k: number): Neighbours {
    const side = this.userSide();
    for (const u of us) this.checkIndex("user", u, this.nUsers);
    checkK(k);
    return this.rows(side, us, false, k).top!;
  }

  /** The k most similar movies of the given movies (full rows; topMovies computes all at half the cost). */
  topMoviesOf(is: Int32Array, k: number): Neighbours {
    for (const i of is) this.checkIndex("movie", i, this.nMovies);
    checkK(k);
    const { toInner } = this.order;
    const inner = this.rows(this.movies, Int32Array.from(is, (i) => toInner[i]!), false, k + 1).top!;
    return this.outerLists(inner, is, Math.min(k, this.nMovies - 1), (i) => this.movieRow(i));
  }

  /**
   * Every movie's k most similar movies (positive similarity, best first): the upper triangle by
   * row ranges on worker threads, then each row's top-k read back from it. `onProgress` counts
   * finished tasks of both phases.
   */
  async topMovies(k: number, opts: { onProgress?: (done: number, total: number, phase: TopMoviesPhase) => void } = {}): Promise<Neighbours> {
    checkK(k);
    const n = this.nMovies;
    const kk = Math.min(k, Math.max(0, n - 1));
    if (8 * n * kk > MAX_TOP_BYTES) {
      throw new DataError(`${kk} neighbours for each of ${n} movies would take ${Math.round((8 * n * kk) / 2 ** 20)} MiB`, "keep fewer neighbours per movie");
    }
    // One more than asked: a tie across the k-th place is then visible (see outerLists).
    const kk1 = Math.min(kk + 1, Math.max(0, n - 1));
    this.enter();
    const { arena } = this.engine;
    const mark = arena.mark();
    try {
      const work = this.work;
      const threads = this.threads ?? autoThreads(work.total);
      const lanes = ACCUMULATOR_LANES[SIMILARITY_LAYOUT[this.params.kind]];
      const layout: TriangleLayout = { key: this.movies.key, other: this.movies.other, tri: arena.array("f32", (n * (n - 1)) / 2) };
      const slots = Array.from({ length: threads }, () => ({
        acc: arena.zeros("f32", n * lanes), rows: arena.array("f32", TOPK_BLOCK * n), mask: arena.array("u8", TOPK_BLOCK * n),
      }));
      const idx = arena.array("i32", n * kk1);
      const score = arena.array("f32", n * kk1);
      const upper = rowRanges(work.perRow, threads).map(([r0, r1]) =>
        (s: number) => upperTask(layout, this.params, r0, r1, slots[s]!.acc));
      const tops: ((s: number) => Task)[] = [];
      for (let r0 = 0; r0 < n; r0 += TOPK_ROWS) {
        const r1 = Math.min(n, r0 + TOPK_ROWS);
        const slice = <D extends "i32" | "f32">(r: Region<D>): Region<D> => ({ ptr: r.ptr + 4 * r0 * kk1, length: (r1 - r0) * kk1, dtype: r.dtype });
        tops.push((s) => topKTask(layout, r0, r1, kk1, slots[s]!.rows, slots[s]!.mask, slice(idx), slice(score)));
      }
      const total = upper.length + tops.length;
      const pool = EnginePool.create(this.engine, threads === 1 ? { inline: true } : { threads });
      try {
        await runInSlots(pool, upper, threads, (done) => opts.onProgress?.(done, total, "triangle"));
        await runInSlots(pool, tops, threads, (done) => opts.onProgress?.(upper.length + done, total, "top-k"));
      } finally {
        await pool.destroy();
      }
      const inner = compact(arena.view(idx), arena.view(score), n, kk1);
      const t = arena.view(layout.tri);
      return this.outerLists(inner, Int32Array.from({ length: n }, (_, i) => i), kk, (i) => this.fromInner(triangleRow(t, n, this.order.toInner[i]!)), this.order.toInner);
    } finally {
      arena.reset(mark);
      this.busy = false;
    }
  }

  /** A row over the engine's movie order as a row over movie indices. */
  private fromInner(row: Float32Array): Float32Array {
    return Float32Array.from(this.order.toInner, (r) => row[r]!);
  }

  /**
   * Neighbour lists of movies `is` (by movie index) from lists over the engine's rows (list x of
   * `inner` is movie is[x]'s, or row rowOf[is[x]] when given), with at most k + 1 entries each:
   * movie indices, ties ordered by movie index, cut to k. A tie across the k-th place leaves which
   * movies make the cut to the index order, so such a movie's list is taken from its full row
   * (`fullRow`, over movie indices).
   */
  private outerLists(
    inner: Neighbours, is: Int32Array, k: number, fullRow: (i: number) => Float32Array, rowOf: Int32Array | null = null,
  ): Neighbours {
    const { toOuter } = this.order;
    const ptr = new Int32Array(is.length + 1);
    const outIdx = new Int32Array(is.length * k);
    const outScore = new Float32Array(is.length * k);
    for (let x = 0; x < is.length; x++) {
      const { idx, score } = neighboursOf(inner, rowOf ? rowOf[is[x]!]! : x);
      const at = ptr[x]!;
      const tie = idx.length > k && k > 0 && score[k] === score[k - 1];
      // Above a tie across the k-th place the list is complete; the tie itself comes from the full row.
      let m = Math.min(k, idx.length);
      if (tie) while (m > 0 && score[m - 1] === score[k]) m--;
      for (let e = 0; e < m; e++) {
        // Insertion into the run of equal scores before it, by movie index.
        const j = toOuter[idx[e]!]!;
        let p = at + e;
        while (p > at && outScore[p - 1] === score[e] && outIdx[p - 1]! > j) {
          outIdx[p] = outIdx[p - 1]!;
          outScore[p] = outScore[p - 1]!;
          p--;
        }
        outIdx[p] = j;
        outScore[p] = score[e]!;
      }
      if (tie) {
        const row = fullRow(is[x]!);
        const s = score[k]!;
        for (let j = 0; j < row.length && m < k; j++) {
          if (row[j] === s && j !== is[x]) {
            outIdx[at + m] = j;
            outScore[at + m++] = s;
          }
        }
      }
      ptr[x + 1] = at + m;
    }
    return { ptr, idx: outIdx.slice(0, ptr[is.length]), score: outScore.slice(0, ptr[is.length]) };
  }



  /** Frees the engine (its memory at once for large problems); the object is unusable afterwards. */
  async close(): Promise<void> {
    this.engine.close();
    if (this.movies.key.idx.length >= LARGE_RATINGS) releaseUnusedMemory();
  }

  /** Full similarity rows of `rows` on one side: dense copies, or top-k lists. */
  private rows(side: Side, rows: Int32Array, dense: boolean, k: number): { dense?: Float32Array; top?: Neighbours } {
    this.enter();
    const { arena } = this.engine;
    const mark = arena.mark();
    try {
      const nCols = side.other.nCols;
      const n = rows.length;
      const list = arena.copyIn(n > 0 ? rows : new Int32Array(1)).ptr;
      const out = dense ? arena.array("f32", n * nCols) : side.out;
      const top = k > 0 ? { k, idx: arena.array("i32", n * k), score: arena.array("f32", n * k) } : null;
      // Several calls, so that V8's optimized code takes over early in a long batch.
      for (let at = 0; at < n; at += ROWS_PER_CALL) {
        const m = Math.min(ROWS_PER_CALL, n - at);
        const part = <D extends Dtype>(r: Region<D>, width: number): Region<D> => ({ ptr: r.ptr + BYTES_PER[r.dtype] * at * width, length: m * width, dtype: r.dtype });
        this.engine.similarityRows(
          { ptr: list + 4 * at, length: m, dtype: "i32" }, side.key, side.other, this.params,
          { acc: side.acc, out: dense ? part(out, nCols) : out, mask: side.mask },
          top && { k, idx: part(top.idx, k), score: part(top.score, k) }, { dense },
        );
      }
      if (dense) return { dense: arena.copyOut(out) };
      return { top: compact(arena.view(top!.idx), arena.view(top!.score), rows.length, k) };
    } finally {
      arena.reset(mark);
      this.busy = false;
    }
  }

  /**
   * The user side (by-user rows as keys over the by-movie CSR), built at first use: each user's
   * movies in movie-index order (as the sums of a user pair have always been taken), with the
   * movie side's values in by-movie order.
   */
  private userSide(): Side {
    if (this.users) return this.users;
    if (this.busy) throw new DataError("this similarity is busy computing topMovies", "wait for it to finish");
    const { arena } = this.engine;
    const m = this.movies;
    const nnz = m.key.idx.length;
    const userIdx = arena.array("i32", nnz);
    const userCross = arena.array("i32", nnz);
    const movieVal = arena.array("f32", nnz);
    const lanes = ACCUMULATOR_LANES[SIMILARITY_LAYOUT[this.params.kind]];
    const rest = scratch(this.engine, this.nUsers, lanes);
    const keyPtr = arena.view(m.key.ptr);
    const rater = arena.view(m.key.idx);
    const cross = arena.view(m.key.cross);
    const val = arena.view(m.other.val);
    const fill = arena.view(m.other.ptr).slice(0, this.nUsers);
    const idx = arena.view(userIdx);
    const back = arena.view(userCross);
    const byMovie = arena.view(movieVal);
    const { toInner } = this.order;
    for (let i = 0; i < this.nMovies; i++) {
      const r = toInner[i]!;
      for (let e = keyPtr[r]!; e < keyPtr[r + 1]!; e++) {
        const at = fill[rater[e]!]!++;
        idx[at] = r;
        back[at] = e;
        byMovie[e] = val[cross[e]!]!;
      }
    }
    this.users = {
      key: { nRows: this.nUsers, nCols: this.nMovies, ptr: m.other.ptr, idx: userIdx, cross: userCross },
      other: { nRows: this.nMovies, nCols: this.nUsers, ptr: m.key.ptr, idx: m.key.idx, val: movieVal },
      ...rest,
    };
    return this.users;
  }

  private enter(): void {
    if (this.busy) throw new DataError("this similarity is busy computing topMovies", "wait for it to finish");
    this.busy = true;
  }

  private checkIndex(what: string, x: number, n: number): void {
    if (!Number.isInteger(x) || x < 0 || x >= n) throw new DataError(`${what} index ${x} is outside 0..${n - 1}`);
  }
}

/** Validated similarity parameters with defaults. */
export function resolveSimilarity(opts: SimilarityOptions): SimilarityParams {
  return checkedParams(opts, Boolean(opts.baseline));
}

/** resolveSimilarity, told whether the baseline is given or being fitted. */
function checkedParams(opts: SimilarityOptions, hasBaseline: boolean): SimilarityParams {
  const kind = opts.sim ?? "pearson-baseline";
  if (!SIMILARITY_KINDS.includes(kind)) throw new DataError(`unknown similarity "${kind}"`, `choose one of: ${SIMILARITY_KINDS.join(", ")}`);
  const minSupport = opts.minSupport ?? 1;
  if (!Number.isInteger(minSupport) || minSupport < 1) throw new DataError(`minSupport must be a whole number ≥ 1 (got ${minSupport})`);
  const shrinkage = opts.shrinkage ?? 100;
  if (!Number.isFinite(shrinkage) || shrinkage < 0) throw new DataError(`shrinkage must be a number ≥ 0 (got ${shrinkage})`);
  if (kind === "pearson-baseline" && !hasBaseline) {
    throw new DataError("the pearson-baseline similarity needs the baseline μ + b_u + b_i", "pass `baseline` (see fitBiases)");
  }
  return { kind, minSupport, shrinkage };
}

/** The baseline whose residuals pearson-baseline correlates (null for the other kinds), checked against the problem's shape. */
function checkedBaseline(kind: SimilarityKind, b: Biases | null, nUsers: number, nMovies: number): Biases | null {
  if (kind !== "pearson-baseline") return null;
  if (b!.bu.length !== nUsers || b!.bi.length !== nMovies) {
    throw new DataError(`the baseline has ${b!.bu.length} users and ${b!.bi.length} movies, the ratings ${nUsers} and ${nMovies}`);
  }
  return b;
}

function checkThreads(threads: number | undefined): void {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new DataError(`threads must be a whole number ≥ 1 (got ${threads})`);
  }
}

/** The movie side of a co-rating problem in the engine: keys by movie over the by-user layout. */
interface CoRatingRegions {
  key: KeyCsrRegions;
  other: CsrRegions;
}

/**
 * The order of the engine's movie rows and columns: ascending rating count (then movie index).
 * The triangle's sums do not depend on it (each pair's co-ratings are summed in rater order either
 * way), but with the popular movies last a rater's entries after a row crowd into fewer cache lines
 * of the accumulator row: the triangle runs faster.
 */
interface MovieOrder {
  /** Engine row of each movie. */
  toInner: Int32Array;
  /** Movie of each engine row. */
  toOuter: Int32Array;
}

function popularityOrder(count: Int32Array): MovieOrder {
  const n = count.length;
  const toOuter = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => count[a]! - count[b]! || a - b);
  const toInner = new Int32Array(n);
  for (let r = 0; r < n; r++) toInner[toOuter[r]!] = r;
  return { toInner, toOuter };
}

/** Row offsets over the engine's movie rows from each movie's rating count. */
function innerOffsets(keyPtr: Int32Array, count: Int32Array, order: MovieOrder): void {
  keyPtr[0] = 0;
  for (let r = 0; r < count.length; r++) keyPtr[r + 1] = keyPtr[r]! + count[order.toOuter[r]!]!;
}

/**
 * Fills the regions from a CSR by user (values replaced by residuals when `b` is given): the
 * by-movie layout by a counting sort (each movie's raters ascending), then the by-user one.
 */
function layoutFromCsr(engine: Engine, l: CoRatingRegions, r: Csr, b: Biases | null): { perRow: Float64Array; order: MovieOrder } {
  const { arena } = engine;
  const { nRows, nCols, ptr, idx, val } = r;
  const nnz = idx.length;
  if (ptr.length !== nRows + 1 || ptr[0] !== 0 || ptr[nRows] !== nnz || val.length !== nnz) {
    throw new DataError(`the ratings' row offsets do not match their ${nnz} entries`);
  }
  const count = new Int32Array(nCols);
  for (let u = 0; u < nRows; u++) {
    let prev = -1;
    for (let e = ptr[u]!; e < ptr[u + 1]!; e++) {
      const c = idx[e]!;
      if (!(c > prev)) throw new DataError(`row ${u} of the ratings is not in ascending column order (or rates a movie twice)`);
      if (c >= nCols) throw new DataError(`row ${u} of the ratings has column ${c}, outside 0..${nCols - 1}`);
      prev = c;
      count[c]!++;
    }
  }
  const order = popularityOrder(count);
  const keyPtr = arena.view(l.key.ptr);
  innerOffsets(keyPtr, count, order);
  arena.view(l.other.ptr).set(ptr);
  const fill = keyPtr.slice(0, nCols);
  const rater = arena.view(l.key.idx);
  const source = arena.view(l.key.cross);
  for (let u = 0; u < nRows; u++) {
    for (let e = ptr[u]!; e < ptr[u + 1]!; e++) {
      const at = fill[order.toInner[idx[e]!]!]!++;
      rater[at] = u;
      source[at] = e;
    }
  }
  scatterByUser(engine, l, val);
  return { perRow: byUserPass(engine, l, order, b), order };
}

/**
 * Fills the regions from rating columns: the by-movie layout from the ratings in (movie, user)
 * order — the order generated and ingested Netflix data come in, else made by two counting sorts —
 * then the by-user one.
 */
async function layoutFromColumns(
  engine: Engine, l: CoRatingRegions, ratings: Ratings, biases: () => Promise<Biases | null>,
): Promise<{ perRow: Float64Array; order: MovieOrder }> {
  const { arena } = engine;
  const { user, movie, rating } = ratings;
  const n = user.length;
  const nUsers = l.other.nRows;
  const nMovies = l.key.nRows;
  const userPtr = arena.view(l.other.ptr);
  userPtr.fill(0);
  const count = new Int32Array(nMovies);
  let sorted = true;
  for (let k = 0; k < n; k++) {
    const u = user[k]!;
    const c = movie[k]!;
    if (!(u >= 0 && u < nUsers)) throw new DataError(`user index ${u} of rating ${k} is outside 0..${nUsers - 1}`);
    if (!(c >= 0 && c < nMovies)) throw new DataError(`movie index ${c} of rating ${k} is outside 0..${nMovies - 1}`);
    userPtr[u + 1]!++;
    count[c]!++;
    if (k > 0 && (c < movie[k - 1]! || (c === movie[k - 1]! && u <= user[k - 1]!))) sorted = false;
  }
  for (let u = 0; u < nUsers; u++) userPtr[u + 1]! += userPtr[u]!;
  const moviePtr = new Int32Array(nMovies + 1);
  for (let c = 0; c < nMovies; c++) moviePtr[c + 1] = moviePtr[c]! + count[c]!;
  const byMovieUser = sorted ? null : movieUserOrder(user, movie, userPtr, moviePtr);
  const order = popularityOrder(count);
  innerOffsets(arena.view(l.key.ptr), count, order);
  const rater = arena.view(l.key.idx);
  const source = arena.view(l.key.cross);
  let at = 0;
  for (let r = 0; r < nMovies; r++) {
    const c = order.toOuter[r]!;
    for (let q = moviePtr[c]!; q < moviePtr[c + 1]!; q++) {
      const k = byMovieUser === null ? q : byMovieUser[q]!;
      rater[at] = user[k]!;
      source[at++] = k;
    }
  }
  scatterByUser(engine, l, rating);
  return { perRow: byUserPass(engine, l, order, await biases()), order };
}

/**
 * The by-user layout from the by-movie one (whose cross indices hold, on entry, each rating's
 * index in `value`): every movie row in turn appends its raters' entries, so each user's row comes
 * out in ascending row order, with the ratings as values. Cross indices then point into the
 * by-user layout.
 */
function scatterByUser(engine: Engine, l: CoRatingRegions, value: Float32Array): void {
  const { arena } = engine;
  const nMovies = l.key.nRows;
  const keyPtr = arena.view(l.key.ptr);
  const rater = arena.view(l.key.idx);
  const cross = arena.view(l.key.cross);
  const otherIdx = arena.view(l.other.idx);
  const otherVal = arena.view(l.other.val);
  const fill = arena.view(l.other.ptr).slice(0, l.other.nRows);
  for (let r = 0; r < nMovies; r++) {
    for (let e = keyPtr[r]!; e < keyPtr[r + 1]!; e++) {
      const at = fill[rater[e]!]!++;
      otherIdx[at] = r;
      otherVal[at] = value[cross[e]!]!;
      cross[e] = at;
    }
  }
}

/**
 * Row by row over the by-user layout (sequential): rejects duplicates, turns the values into
 * residuals from `b` when given, and returns each movie row's pair updates in the upper triangle
 * (its raters' entries after it).
 */
function byUserPass(engine: Engine, l: CoRatingRegions, order: MovieOrder, b: Biases | null): Float64Array {
  const { arena } = engine;
  const nUsers = l.other.nRows;
  const userPtr = arena.view(l.other.ptr);
  const otherIdx = arena.view(l.other.idx);
  const otherVal = arena.view(l.other.val);
  const perRow = new Float64Array(l.key.nRows);
  const { toOuter } = order;
  for (let u = 0; u < nUsers; u++) {
    const end = userPtr[u + 1]!;
    let prev = -1;
    for (let e = userPtr[u]!; e < end; e++) {
      const r = otherIdx[e]!;
      if (r === prev) throw new DataError(`user ${u} rates movie ${toOuter[r]} more than once`);
      prev = r;
      perRow[r]! += end - e - 1;
      if (b) otherVal[e] = otherVal[e]! - b.mu - b.bu[u]! - b.bi[toOuter[r]!]!;
    }
  }
  return perRow;
}

/** Rating indices in (movie, user) order (stable): a counting sort by user, then one by movie. */
function movieUserOrder(user: Int32Array, movie: Int32Array, userPtr: Int32Array, moviePtr: Int32Array): Int32Array {
  const n = user.length;
  const byUser = new Int32Array(n);
  const fillU = userPtr.slice(0, userPtr.length - 1);
  for (let k = 0; k < n; k++) byUser[fillU[user[k]!]!++] = k;
  const order = new Int32Array(n);
  const fillM = moviePtr.slice(0, moviePtr.length - 1);
  for (let p = 0; p < n; p++) {
    const k = byUser[p]!;
    order[fillM[movie[k]!]!++] = k;
  }
  return order;
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new DataError(`k must be a whole number ≥ 1 (got ${k})`);
}

function scratch(engine: Engine, nCols: number, lanes: number): { acc: Region<"f32">; out: Region<"f32">; mask: Region<"u8"> } {
  const { arena } = engine;
  return { acc: arena.zeros("f32", nCols * lanes), out: arena.array("f32", nCols), mask: arena.array("u8", nCols) };
}

/** Bytes of the co-rating layout loadCoRatings copies into an engine. */
export function coRatingBytes(pair: CsrPair): number {
  return coRatingSize(pair.byUser.nRows, pair.byUser.nCols, pair.byUser.idx.length);
}

/** Bytes of a co-rating layout of nnz ratings, with room for the user side's cross indices. */
function coRatingSize(nUsers: number, nMovies: number, nnz: number): number {
  return 4 * (nUsers + nMovies + 2 + 5 * nnz);
}

/**
 * The movie side of a co-rating problem in the engine: the by-movie layout as keys (raters and
 * cross indices) over the by-user layout (movies and values).
 */
export function loadCoRatings(engine: Engine, pair: CsrPair): { key: KeyCsrRegions; other: CsrRegions } {
  const { arena } = engine;
  const u = pair.byUser;
  const m = pair.byMovie;
  return {
    key: { nRows: m.nRows, nCols: m.nCols, ptr: arena.copyIn(m.ptr), idx: arena.copyIn(m.idx), cross: arena.copyIn(pair.movieToUser) },
    other: { nRows: u.nRows, nCols: u.nCols, ptr: arena.copyIn(u.ptr), idx: arena.copyIn(u.idx), val: arena.copyIn(u.val) },
  };
}

/**
 * Pair updates of each movie row of the upper triangle (its raters' entries after it, plus the
 * finalize of the columns after it), and their total: what row ranges are balanced on.
 */
export function upperWork(pair: CsrPair): { perRow: Float64Array; total: number } {
  const { ptr: keyPtr, idx: rater } = pair.byMovie;
  const cross = pair.movieToUser;
  const userPtr = pair.byUser.ptr;
  const n = pair.byMovie.nRows;
  const perRow = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let w = n - i;
    for (let e = keyPtr[i]!; e < keyPtr[i + 1]!; e++) w += userPtr[rater[e]! + 1]! - cross[e]! - 1;
    perRow[i] = w;
    total += w;
  }
  return { perRow, total };
}

/** Worker threads for a triangle of `work` pair updates: the calling thread for small problems. */
export function autoThreads(work: number): number {
  return work < PARALLEL_WORK ? 1 : availableParallelism();
}

/**
 * Row ranges of balanced work for `threads` threads: several per thread, so the pool can even
 * out, and so no single kernel call runs long on V8's baseline tier before the optimized code.
 */
export function rowRanges(weight: Float64Array, threads: number): [number, number][] {
  return balancedRanges(weight, threads * TASKS_PER_THREAD);
}

/** Cuts rows into about `parts` contiguous ranges of equal total weight. */
function balancedRanges(weight: Float64Array, parts: number): [number, number][] {
  const n = weight.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weight[i]!;
  const target = total / Math.max(1, parts);
  const ranges: [number, number][] = [];
  let start = 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += weight[i]!;
    if (acc >= target || i === n - 1) {
      ranges.push([start, i + 1]);
      start = i + 1;
      acc = 0;
    }
  }
  return ranges;
}

/**
 * Runs tasks on the pool, at most `slots` at a time; task t gets a free slot number (its scratch
 * regions) when it starts. Rejects on the first failure.
 */
export function runInSlots(pool: EnginePool, tasks: ((slot: number) => Task)[], slots: number, onDone: (done: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const free = Array.from({ length: slots }, (_, s) => s);
    let next = 0;
    let done = 0;
    let failed = false;
    const pump = () => {
      while (!failed && free.length > 0 && next < tasks.length) {
        const slot = free.pop()!;
        const task = tasks[next++]!(slot);
        pool.run(task).then(
          () => {
            free.push(slot);
            onDone(++done);
            if (done === tasks.length) resolve();
            else pump();
          },
          (err) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    if (tasks.length === 0) resolve();
    else pump();
  });
}

/** Row r of the symmetric matrix whose packed upper triangle is t (n × n; 0 on the diagonal). */
function triangleRow(t: Float32Array, n: number, r: number): Float32Array {
  const row = new Float32Array(n);
  // t(j, r) = j·n − j(j+1)/2 + (r − j − 1) for j < r; row r's own entries follow from t(r, r + 1).
  for (let j = 0; j < r; j++) row[j] = t[j * n - (j * (j + 1)) / 2 + (r - j - 1)]!;
  const base = r * n - (r * (r + 1)) / 2 - r - 1;
  for (let j = r + 1; j < n; j++) row[j] = t[base + j]!;
  return row;
}

/** Top-k slots (−1 past the last found) to a compact Neighbours. */
function compact(idx: Int32Array, score: Float32Array, rows: number, k: number): Neighbours {
  const ptr = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) {
    let found = 0;
    while (found < k && idx[r * k + found]! >= 0) found++;
    ptr[r + 1] = ptr[r]! + found;
  }
  const outIdx = new Int32Array(ptr[rows]!);
  const outScore = new Float32Array(ptr[rows]!);
  for (let r = 0; r < rows; r++) {
    const len = ptr[r + 1]! - ptr[r]!;
    outIdx.set(idx.subarray(r * k, r * k + len), ptr[r]!);
    outScore.set(score.subarray(r * k, r * k + len), ptr[r]!);
  }
  return { ptr, idx: outIdx, score: outScore };
}
