/**
 * The one interface every algorithm implements (Surprise's fit/estimate layering, implicit's
 * batch-first recommend, LIBMF's parameters in one place).
 *
 * A model is fitted on a Dataset and keeps what it needs to answer in raw ids afterwards: the id
 * tables, titles, the rating scale, and each user's seen movies (for `excludeSeen`). Subclasses
 * implement only the dense-index core: `fitDense`, `predictDense`, and their own arrays for save/load.
 *
 * Unknown users or movies never throw: every model falls back to the parts of its estimate that
 * exist (for factor models: the baseline mu + b_u + b_i; for means: the global mean) and says so
 * through `predictOne(...).impossible/reason` and `recommend(...).fallback/reason`.
 */
import { IdIndex } from "../data/ids.js";
import { releaseUnusedMemory } from "../engine/release.js";
import type { TrainingOptions } from "../engine/trainer.js";
import type { Dataset, RawId, RawIds } from "../data/types.js";
import { DataError } from "../data/types.js";
import { writeModelFile, type ArrayData, type ModelHeader } from "./io.js";
import { activeParams, resolveParams, type ParamSpec, type Params } from "./params.js";

export interface EpochInfo {
  epoch: number;
  epochs: number;
  trainRmse: number;
  /** RMSE on `FitOptions.valid` when given, else null. */
  validRmse: number | null;
  seconds: number;
}

export interface FitOptions extends TrainingOptions {
  onEpoch?: (info: EpochInfo) => void;
  /** Ratings to report validation RMSE on after each epoch (never used to fit; used by earlyStop). */
  valid?: Dataset;
}

export interface Estimate {
  est: number;
  /** True when the user or the movie was not in the training data and a fallback was used. */
  impossible: boolean;
  reason: string | null;
}

export interface Recommendation {
  userId: RawId;
  movieIds: RawId[];
  titles: (string | null)[];
  scores: number[];
  /** True when the user was unknown and the list is the most popular movies by baseline. */
  fallback: boolean;
  reason: string | null;
}

export interface SimilarItems {
  movieId: RawId;
  movieIds: RawId[];
  titles: (string | null)[];
  scores: number[];
  reason: string | null;
}

export interface RecommendOptions {
  n?: number;
  excludeSeen?: boolean;
}

/** What a model keeps of its training data (id tables, titles, scale, seen movies). */
interface TrainingContext {
  users: RawIds;
  movies: RawIds;
  titles: (string | null)[] | null;
  scale: { min: number; max: number };
  datasetHash: string;
  /** CSR by user of the movies each user rated: seenIdx[seenPtr[u] .. seenPtr[u+1]). */
  seenPtr: Int32Array;
  seenIdx: Int32Array;
}

export abstract class Model {
  abstract readonly algo: string;
  readonly params: Params;
  protected ctx: TrainingContext | null = null;
  trainedAt: string | null = null;
  private userIndex: IdIndex | null = null;
  private movieIndex: IdIndex | null = null;

  constructor(params: Params = {}) {
    this.params = resolveParams(this.spec().algo, this.spec().params, params);
  }

  /** The algorithm's name, one-line description and parameter declarations. */
  abstract spec(): { algo: string; description: string; params: ParamSpec[] };

  // ---- what subclasses implement (dense indices only) ----

  protected abstract fitDense(train: Dataset, opts: FitOptions): Promise<void>;
  /** Estimates for (u[k], i[k]) into out[k], clipped to the rating scale; u or i may be -1 (unknown). */
  abstract predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void;
  /** The model's own arrays and scalars to save. */
  protected abstract state(): { arrays: Record<string, ArrayData>; scalars: Record<string, number> };
  protected abstract restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void;

  /** Called after fit and after load: build whatever answering needs (e.g. an engine instance). */
  async ready(): Promise<void> {}

  /** Scores of every movie for dense user u (-1: unknown) into out (length nMovies). */
  scoreUser(u: number, out: Float32Array): void {
    const n = out.length;
    const us = new Int32Array(n).fill(u);
    const is = new Int32Array(n);
    for (let i = 0; i < n; i++) is[i] = i;
    this.predictDense(us, is, out);
  }

  // ---- the public API (raw ids) ----

  async fit(train: Dataset, opts: FitOptions = {}): Promise<this> {
    if (train.meta.nRatings === 0) throw new DataError("cannot fit on an empty dataset", "check the training file or split");
    // The seen-movie lists (4 bytes per rating) are built after training, so they never add
    // to the training's peak memory.
    this.ctx = buildContext(train, false);
    this.userIndex = this.movieIndex = null;
    await this.fitDense(train, opts);
    // Large runs only: a full collection costs milliseconds, worth it when it returns gigabytes.
    if (train.meta.nRatings >= 1_000_000) releaseUnusedMemory();
    this.ctx = buildContext(train, true);
    this.trainedAt = new Date().toISOString();
    return this;
  }

  get nUsers(): number {
    return this.context().users.length;
  }
  get nMovies(): number {
    return this.context().movies.length;
  }
  get ratingScale(): { min: number; max: number } {
    return this.context().scale;
  }
  get datasetHash(): string {
    return this.context().datasetHash;
  }

  /** Dense index of a raw user id, or -1. */
  userIndexOf(userId: RawId): number {
    this.userIndex ??= new IdIndex(this.context().users);
    return this.userIndex.index(userId);
  }

  /** Dense index of a raw movie id, or -1. */
  movieIndexOf(movieId: RawId): number {
    this.movieIndex ??= new IdIndex(this.context().movies);
    return this.movieIndex.index(movieId);
  }

  rawMovieId(i: number): RawId {
    return this.context().movies[i]!;
  }

  title(i: number): string | null {
    return this.context().titles?.[i] ?? null;
  }

  /** The training dataset's titles (null when it had none), indexed by dense movie index. */
  get titles(): (string | null)[] | null {
    return this.context().titles;
  }

  /**
   * Maps a dataset's dense indices to this model's (−1 where the raw id is unknown to the model).
   * Datasets cut from the same parent share id tables, and then this is the identity.
   */
  alignIds(ds: Dataset): { u: Int32Array; i: Int32Array } {
    const ctx = this.context();
    const uMap = sameIds(ds.users, ctx.users) ? null : mapIds(ds.users, (id) => this.userIndexOf(id));
    const iMap = sameIds(ds.movies, ctx.movies) ? null : mapIds(ds.movies, (id) => this.movieIndexOf(id));
    const { user, movie } = ds.ratings;
    if (!uMap && !iMap) return { u: user, i: movie };
    const n = user.length;
    const u = uMap ? new Int32Array(n) : user;
    const i = iMap ? new Int32Array(n) : movie;
    for (let r = 0; r < n; r++) {
      if (uMap) u[r] = uMap[user[r]!]!;
      if (iMap) i[r] = iMap[movie[r]!]!;
    }
    return { u, i };
  }

  /** FitOptions.valid in this model's index space (for per-epoch validation RMSE). */
  protected validRatings(opts: FitOptions): { user: Int32Array; movie: Int32Array; rating: Float32Array } | undefined {
    if (!opts.valid) return undefined;
    const { u, i } = this.alignIds(opts.valid);
    return { user: u, movie: i, rating: opts.valid.ratings.rating };
  }

  /** Predictions for the ratings of `ds` (matched by raw id), clipped to the rating scale. */
  predictDataset(ds: Dataset): Float32Array {
    const { u, i } = this.alignIds(ds);
    const out = new Float32Array(u.length);
    this.predictDense(u, i, out);
    return out;
  }

  /** Batch prediction by raw ids. */
  predict(userIds: RawId[], movieIds: RawId[]): Float32Array {
    if (userIds.length !== movieIds.length) {
      throw new DataError(`predict needs as many users as movies (got ${userIds.length} and ${movieIds.length})`);
    }
    const u = Int32Array.from(userIds, (id) => this.userIndexOf(id));
    const i = Int32Array.from(movieIds, (id) => this.movieIndexOf(id));
    const out = new Float32Array(u.length);
    this.predictDense(u, i, out);
    return out;
  }

  predictOne(userId: RawId, movieId: RawId): Estimate {
    const u = this.userIndexOf(userId);
    const i = this.movieIndexOf(movieId);
    const out = new Float32Array(1);
    this.predictDense(Int32Array.of(u), Int32Array.of(i), out);
    const missing = [u < 0 ? `user ${userId}` : null, i < 0 ? `movie ${movieId}` : null].filter(Boolean);
    return {
      est: out[0]!,
      impossible: missing.length > 0,
      reason: missing.length ? `${missing.join(" and ")} not in the training data: ${this.fallbackText(u >= 0, i >= 0)}` : null,
    };
  }

  /** How the estimate is formed when the user and/or the movie is unknown (subclasses refine it). */
  protected fallbackText(userKnown: boolean, movieKnown: boolean): string {
    if (!userKnown && !movieKnown) return "estimated by the global mean";
    return userKnown ? "estimated without the movie's terms" : "estimated without the user's terms (the movie's baseline)";
  }

  recommend(userIds: RawId[], opts: RecommendOptions = {}): Recommendation[] {
    const n = opts.n ?? 10;
    const excludeSeen = opts.excludeSeen ?? true;
    if (!Number.isInteger(n) || n < 1) throw new DataError(`n must be a whole number ≥ 1 (got ${n})`);
    const ctx = this.context();
    const nMovies = ctx.movies.length;
    const scores = new Float32Array(nMovies);
    const excluded = new Uint8Array(nMovies);
    return userIds.map((userId) => {
      const u = this.userIndexOf(userId);
      this.scoreUser(u, scores);
      excluded.fill(0);
      if (excludeSeen && u >= 0) {
        for (let k = ctx.seenPtr[u]!; k < ctx.seenPtr[u + 1]!; k++) excluded[ctx.seenIdx[k]!] = 1;
      }
      const top = topN(scores, excluded, n);
      return {
        userId,
        movieIds: top.map((i) => ctx.movies[i]!),
        titles: top.map((i) => ctx.titles?.[i] ?? null),
        scores: top.map((i) => scores[i]!),
        fallback: u < 0,
        reason: u < 0 ? `user ${userId} not in the training data: the most popular movies by baseline` : null,
      };
    });
  }

  /**
   * The n movies most similar to each given movie (raw ids), best first, with scores. Unknown
   * movies give an empty list with `reason`. Models without a movie–movie similarity refuse.
   */
  similarItems(movieIds: RawId[], opts: { n?: number } = {}): SimilarItems[] {
    const n = opts.n ?? 10;
    if (!Number.isInteger(n) || n < 1) throw new DataError(`n must be a whole number ≥ 1 (got ${n})`);
    const ctx = this.context();
    const scores = new Float32Array(ctx.movies.length);
    const excluded = new Uint8Array(ctx.movies.length);
    return movieIds.map((movieId) => {
      const i = this.movieIndexOf(movieId);
      if (i < 0) return { movieId, movieIds: [], titles: [], scores: [], reason: `movie ${movieId} not in the training data` };
      this.similarityRow(i, scores);
      excluded.fill(0);
      excluded[i] = 1;
      const top = topN(scores, excluded, n);
      return {
        movieId,
        movieIds: top.map((j) => ctx.movies[j]!),
        titles: top.map((j) => ctx.titles?.[j] ?? null),
        scores: top.map((j) => scores[j]!),
        reason: null,
      };
    });
  }

  /** Similarity of dense movie i to every movie, into out; models with a similarity override it. */
  protected similarityRow(_i: number, _out: Float32Array): void {
    throw new DataError(`${this.algo} has no movie–movie similarity`, "use a factor or neighbourhood model (mf, knn-item, ...)");
  }

  /** Movies rated by dense user u in the training data. */
  seenBy(u: number): Int32Array {
    const ctx = this.context();
    return ctx.seenIdx.slice(ctx.seenPtr[u]!, ctx.seenPtr[u + 1]!);
  }

  // ---- persistence ----

  async save(path: string): Promise<void> {
    const ctx = this.context();
    const { arrays, scalars } = this.state();
    const header: ModelHeader = {
      algo: this.algo,
      params: this.params,
      datasetHash: ctx.datasetHash,
      trainedAt: this.trainedAt ?? new Date().toISOString(),
      scale: ctx.scale,
      nUsers: ctx.users.length,
      nMovies: ctx.movies.length,
      scalars,
      // String ids and titles travel in the header; integer ids as arrays.
      userIds: ctx.users instanceof Int32Array ? null : ctx.users,
      movieIds: ctx.movies instanceof Int32Array ? null : ctx.movies,
      titles: ctx.titles,
    };
    const all: Record<string, ArrayData> = { "ctx.seenPtr": ctx.seenPtr, "ctx.seenIdx": ctx.seenIdx };
    if (ctx.users instanceof Int32Array) all["ctx.users"] = ctx.users;
    if (ctx.movies instanceof Int32Array) all["ctx.movies"] = ctx.movies;
    for (const [k, v] of Object.entries(arrays)) all[`m.${k}`] = v;
    await writeModelFile(path, { header, arrays: all });
  }

  /** Restores a model of this class from file contents (used by `loadModel`). */
  restoreFrom(header: ModelHeader, arrays: Record<string, ArrayData>): this {
    const h = header as ModelHeader & {
      scale: { min: number; max: number };
      scalars: Record<string, number>;
      userIds: string[] | null;
      movieIds: string[] | null;
      titles: (string | null)[] | null;
    };
    this.ctx = {
      users: h.userIds ?? (arrays["ctx.users"] as Int32Array),
      movies: h.movieIds ?? (arrays["ctx.movies"] as Int32Array),
      titles: h.titles,
      scale: h.scale,
      datasetHash: h.datasetHash,
      seenPtr: arrays["ctx.seenPtr"] as Int32Array,
      seenIdx: arrays["ctx.seenIdx"] as Int32Array,
    };
    this.trainedAt = h.trainedAt;
    const own: Record<string, ArrayData> = {};
    for (const [k, v] of Object.entries(arrays)) if (k.startsWith("m.")) own[k.slice(2)] = v;
    this.restore(own, h.scalars);
    return this;
  }

  /** The parameters that change this model's result with its current settings. */
  activeParams(): ParamSpec[] {
    return activeParams(this.spec().params, this.params);
  }

  protected context(): TrainingContext {
    if (!this.ctx) throw new DataError(`${this.algo} is not fitted yet`, "call fit() or load a saved model first");
    return this.ctx;
  }
}

function buildContext(ds: Dataset, withSeen: boolean): TrainingContext {
  const { user, movie } = ds.ratings;
  const nU = ds.users.length;
  const base = {
    users: ds.users,
    movies: ds.movies,
    titles: ds.titles,
    scale: { ...ds.meta.ratingScale },
    datasetHash: ds.meta.contentHash,
  };
  if (!withSeen) return { ...base, seenPtr: new Int32Array(nU + 1), seenIdx: new Int32Array(0) };
  const seenPtr = new Int32Array(nU + 1);
  for (let r = 0; r < user.length; r++) seenPtr[user[r]! + 1]!++;
  for (let u = 0; u < nU; u++) seenPtr[u + 1]! += seenPtr[u]!;
  const fill = seenPtr.slice(0, nU);
  const seenIdx = new Int32Array(user.length);
  for (let r = 0; r < user.length; r++) seenIdx[fill[user[r]!]!++] = movie[r]!;
  return { ...base, seenPtr, seenIdx };
}

function sameIds(a: RawIds, b: RawIds): boolean {
  if (a === b) return true;
  if (a.length !== b.length || a instanceof Int32Array !== b instanceof Int32Array) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function mapIds(from: RawIds, lookup: (id: RawId) => number): Int32Array {
  const out = new Int32Array(from.length);
  for (let k = 0; k < from.length; k++) out[k] = lookup(from[k]!);
  return out;
}

/** Indices of the n highest scores not excluded, best first; ties go to the lower index. */
export function topN(scores: Float32Array, excluded: Uint8Array, n: number): number[] {
  const heap: number[] = [];
  // A small sorted buffer is faster than a heap for the n ≤ 100 that recommend uses. Once it is
  // full, nearly every score loses to the n-th best: that test comes first and reads locals only
  // (`worst` is NaN, which no comparison passes, until the buffer is full). 3× faster over 17,770
  // movies than reading the buffer's last score for every movie.
  let worst = NaN;
  const len = scores.length;
  for (let i = 0; i < len; i++) {
    const s = scores[i]!;
    if (s <= worst || excluded[i]) continue;
    let k = heap.length < n ? heap.length : n - 1;
    heap[k] = i;
    while (k > 0 && scores[heap[k - 1]!]! < s) {
      heap[k] = heap[k - 1]!;
      heap[k - 1] = i;
      k--;
    }
    if (heap.length === n) worst = scores[heap[n - 1]!]!;
  }
  return heap;
}
