/**
 * The synthetic Netflix-shaped generator (`movierec generate`).
 *
 * Shape. Movies get exact rating counts from a fixed quantile curve fitted to the Netflix Prize
 * data (min 3, quartiles 192 / 561 / 2,667, top 232,944 at full size; about 0.2% of all ratings
 * go to the top movie), scaled to the requested total. Users get log-normal target counts
 * (σ 1.25: median ≈ 0.46 × mean, i.e. 96 at Netflix's 209 per user). Who rated what is drawn
 * movie by movie as a weighted sample without replacement of users (order sampling: the c_i
 * users with the smallest Exp(1)/a_u keys), so every movie gets exactly its count and no user
 * rates a movie twice. The user weights a_u are first fitted (by alternating the two margins on
 * binned weights) so that each user's expected count matches its target despite saturation:
 * heavy users cannot rate a popular movie more than once.
 *
 * Dates. Users join between 1999-11-11 and 2005-12-31 at an exponentially growing rate, stay
 * active until the end or leave at a random day, and rate uniformly within their active range,
 * so the number of ratings per day grows over time.
 *
 * Ratings. Integers 1..5 from the planted model in planted.ts (mean ≈ 3.6, 4 the most common,
 * planted RMSE ≈ 0.85, as hard as Netflix). The generator record in `meta.generator` holds the
 * seed, the shapes and the scales, and the planted model's own RMSE (the noise floor).
 *
 * Output is a dataset folder, or the Netflix Prize text layout (`combined_data_1..4.txt`,
 * `movie_titles.txt` in latin-1, `generator.json`), streamed through large buffers. Either is
 * written into a temporary sibling folder and renamed at the end.
 */
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { makeDataset, writeAtomicDir, writeDataset } from "./dataset.js";
import {
  NETFLIX_LIKE_SCALES,
  Stream,
  clipRating,
  generatedUserIds,
  plantedParams,
  plantedScore,
  streamRng,
  userIdRange,
  type GeneratorRecord,
} from "./planted.js";
import type { Rng } from "./rng.js";
import { latestPerUser } from "./split.js";
import { DataError, type Dataset, type Ratings } from "./types.js";

export { noiseFloor, plantedModel, type GeneratorRecord, type PlantedModel } from "./planted.js";

export interface GenerateOptions {
  users?: number;
  movies?: number;
  ratings?: number;
  seed?: number;
  /** Output folder. */
  out: string;
  /** Write the Netflix Prize text layout instead of a dataset folder. */
  text?: boolean;
  /** Replace an existing non-empty output folder. */
  force?: boolean;
  /** Called as work advances; `done` reaches `total` at the end. */
  onProgress?: (done: number, total: number) => void;
  /** Rank of the planted interaction p_u·q_i (default 8). */
  rank?: number;
  /** Standard deviation of the Gaussian noise added before rounding (default 0.88: planted RMSE ≈ 0.85). */
  noise?: number;
}

/** What `generate` wrote in text mode. */
export interface GeneratedText {
  dir: string;
  /** File names inside `dir`. */
  files: string[];
  generator: GeneratorRecord;
}

/** The Netflix Prize training set's shape, and the generator's other defaults. */
export const GENERATE_DEFAULTS = { users: 480_189, movies: 17_770, ratings: 100_480_507, seed: 1, rank: 8, noise: 0.88 } as const;

/** The held-out part `noiseFloorRmse` is measured on (see latestPerUser in split.ts). */
export const HELD_OUT = "each user's latest 10% of ratings by date (floor(n/10) of a user's n; same-day ties in a seeded random order)";

const FIRST_DAY = Date.UTC(1999, 10, 11) / 86_400_000;
const LAST_DAY = Date.UTC(2005, 11, 31) / 86_400_000;
/** Users joining per day grow by this factor per year. */
const JOIN_GROWTH_PER_YEAR = 1.3;
/** Share of users still active on the last day. */
const STAY_ACTIVE = 0.5;
/** Log-normal spread of users' activity: Netflix's median/mean 96/209 = e^(−σ²/2). */
const USER_SIGMA = 1.25;
/**
 * Movie rating counts by normal score z of the movie's popularity rank: knots (z, ln(count /
 * median count)), linear in between, fitted to the Netflix Prize counts (min 3, quartiles 192,
 * 561, 2,667, max 232,944, mean 5,654).
 */
const MOVIE_SHAPE: ReadonlyArray<readonly [number, number]> = [
  [-3.9, -5.15],
  [-0.674, -1.07],
  [0, 0],
  [0.674, 1.56],
  [2.0, 4.85],
  [3.9, 5.95],
];
/** No movie is rated by more than this share of users. */
const MAX_SHARE = 0.95;
/** How close the heaviest users may come to rating every movie they could (see userTargets). */
const FIT = 0.9;
const NETFLIX_FILES = 4;
const WRITE_BUFFER = 8 << 20;

/** Generates a dataset and writes it to `opts.out` (a dataset folder, or Netflix text with `text`). */
export function generate(opts: GenerateOptions & { text: true }): Promise<GeneratedText>;
export function generate(opts: GenerateOptions & { text?: false }): Promise<Dataset>;
export function generate(opts: GenerateOptions): Promise<Dataset | GeneratedText>;
export async function generate(opts: GenerateOptions): Promise<Dataset | GeneratedText> {
  const total = checkOptions(opts).ratings;
  const work = opts.text ? 3 * total : 2 * total;
  const ds = generateDataset({ ...opts, onProgress: opts.onProgress && ((done) => opts.onProgress!(done, work)) });
  const generator = ds.meta.generator as unknown as GeneratorRecord;
  if (!opts.text) {
    await writeDataset(opts.out, ds, { force: opts.force ?? false });
    opts.onProgress?.(work, work);
    return ds;
  }
  const files = await writeAtomicDir(opts.out, { force: opts.force ?? false }, (tmp) =>
    writeNetflixText(tmp, ds, generator, (done) => opts.onProgress?.(2 * total + done, work)),
  );
  return { dir: opts.out, files, generator };
}

/**
 * Generates a dataset in memory (what `generate` writes). Progress runs to 2 × ratings, in
 * proportion to the time each step takes: choosing raters, ordering by date, drawing ratings.
 */
export function generateDataset(opts: Omit<GenerateOptions, "out" | "text" | "force">): Dataset {
  const o = checkOptions(opts);
  const { users: nU, movies: nM, ratings: nR, seed } = o;
  const report = progressEvery(2 * nR, opts.onProgress);

  const shapeRng = streamRng(seed, Stream.shape);
  const movieCount = movieCounts(nM, nR, nU, shapeRng);
  const userTarget = userTargets(nU, nR, movieCount, shapeRng);
  const weights = fitUserWeights(userTarget, movieCount);

  const user = new Int32Array(nR);
  const movie = new Int32Array(nR);
  const starts = new Float64Array(nM + 1);
  for (let i = 0; i < nM; i++) starts[i + 1] = starts[i]! + movieCount[i]!;
  sampleRaters(weights, movieCount, starts, user, movie, streamRng(seed, Stream.sampling), (done) => report(0.6 * done));
  for (let i = 0; i < nM; i++) user.subarray(starts[i]!, starts[i + 1]!).sort();

  const day = drawDays(user, nU, streamRng(seed, Stream.dates));
  report(0.8 * nR);
  const heldOut = latestPerUser(user, day, nU, seed, (m) => Math.floor(m / 10));
  report(1.2 * nR);
  const rank = o.rank;
  const params = plantedParams({ seed, users: nU, movies: nM, rank, ...NETFLIX_LIKE_SCALES });
  const rating = new Float32Array(nR);
  const noiseRng = streamRng(seed, Stream.noise);
  let sseAll = 0;
  let sseHeld = 0;
  let nHeld = 0;
  for (let r = 0; r < nR; r++) {
    const score = plantedScore(params, user[r]!, movie[r]!);
    const x = Math.round(score + o.noise * noiseRng.normal());
    const value = x < 1 ? 1 : x > 5 ? 5 : x;
    rating[r] = value;
    const e = clipRating(score) - value;
    sseAll += e * e;
    if (heldOut[r] === 1) {
      sseHeld += e * e;
      nHeld++;
    }
    if ((r & 0xfffff) === 0) report(1.2 * nR + 0.8 * r);
  }
  report(2 * nR);

  const generator: GeneratorRecord = {
    format: "movierec-generator",
    version: 1,
    seed,
    users: nU,
    movies: nM,
    ratings: nR,
    rank,
    noise: o.noise,
    ...NETFLIX_LIKE_SCALES,
    userIdRange: userIdRange(nU),
    noiseFloorRmse: round4(Math.sqrt(sseHeld / Math.max(1, nHeld))),
    noiseFloorRmseAll: round4(Math.sqrt(sseAll / nR)),
    heldOut: HELD_OUT,
  };
  const ratings: Ratings = { user, movie, rating, day };
  const { titles, years } = movieTitles(nM, ratings, starts, seed);
  return makeDataset({
    ratings,
    users: generatedUserIds(nU, generator.userIdRange, seed),
    movies: Int32Array.from({ length: nM }, (_, i) => i + 1),
    titles,
    years,
    source: "generated",
    sources: [],
    ratingScale: { min: 1, max: 5 },
    generator: generator as unknown as Record<string, unknown>,
  });
}

interface CheckedOptions {
  users: number;
  movies: number;
  ratings: number;
  seed: number;
  rank: number;
  noise: number;
}

function checkOptions(opts: Omit<GenerateOptions, "out">): CheckedOptions {
  const o = {
    users: opts.users ?? GENERATE_DEFAULTS.users,
    movies: opts.movies ?? GENERATE_DEFAULTS.movies,
    ratings: opts.ratings ?? GENERATE_DEFAULTS.ratings,
    seed: opts.seed ?? GENERATE_DEFAULTS.seed,
    rank: opts.rank ?? GENERATE_DEFAULTS.rank,
    noise: opts.noise ?? GENERATE_DEFAULTS.noise,
  };
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new DataError(`--${name} ${v} is not an integer from ${min} to ${max}`);
    }
  };
  int("users", o.users, 1, 1 << 28);
  int("movies", o.movies, 1, 1 << 24);
  int("ratings", o.ratings, 1, 2 ** 31 - 1);
  int("seed", o.seed, 0, 0xffffffff);
  int("rank", o.rank, 1, 256);
  if (!Number.isFinite(o.noise) || o.noise < 0 || o.noise > 10) throw new DataError(`--noise ${o.noise} is not a number from 0 to 10`);
  const most = Math.floor((o.users * o.movies) / 2);
  if (o.ratings > most) {
    throw new DataError(
      `${o.ratings} ratings do not fit ${o.users} users × ${o.movies} movies`,
      `at most half of all user–movie pairs can be rated: --ratings ≤ ${most}, or raise --users / --movies`,
    );
  }
  if (o.ratings < Math.max(o.users, o.movies)) {
    throw new DataError(
      `${o.ratings} ratings are too few for ${o.users} users and ${o.movies} movies`,
      `every user and every movie gets at least one rating: --ratings ≥ ${Math.max(o.users, o.movies)}`,
    );
  }
  return o;
}

/** Calls `onProgress` about every 1/1000 of `total`. */
function progressEvery(total: number, onProgress?: (done: number, total: number) => void): (done: number) => void {
  if (!onProgress) return () => {};
  const step = Math.max(1, Math.floor(total / 1000));
  let last = -step;
  return (done) => {
    if (done - last >= step || done === total) {
      last = done;
      onProgress(done, total);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Shape: how many ratings each movie and each user gets

/** Exact rating count per movie (sum nR, each 1..MAX_SHARE·nU), from MOVIE_SHAPE in a random order. */
function movieCounts(nM: number, nR: number, nU: number, rng: Rng): Float64Array {
  const rankOf = rng.permutation(nM);
  const w = new Float64Array(nM);
  for (let i = 0; i < nM; i++) w[i] = Math.exp(interpolate(MOVIE_SHAPE, normalQuantile((rankOf[i]! + 0.5) / nM)));
  const real = scaleToSum(w, nR, 1, Math.max(1, Math.floor(MAX_SHARE * nU)));
  // Round the running sum, so the integer counts keep the exact total and stay within the bounds.
  const counts = new Float64Array(nM);
  let acc = 0;
  let prev = 0;
  for (let i = 0; i < nM; i++) {
    acc += real[i]!;
    const next = i === nM - 1 ? nR : Math.round(acc);
    counts[i] = next - prev;
    prev = next;
  }
  return counts;
}

/**
 * Expected rating count per user: log-normal (σ USER_SIGMA) by rank, summing to nR, with the
 * heaviest users lowered until they fit the movies. k users can give at most
 * S(k) = Σ_i min(c_i, k) ratings (Gale–Ryser); the k largest targets are kept below
 * S(k) − (1 − FIT)·min(S(k), nR − S(k)): FIT·S(k) for the few heaviest users, nR once S(k) = nR.
 * The margin keeps the fitted sampling weights finite; ratings taken from capped users go to the others.
 */
function userTargets(nU: number, nR: number, movieCount: Float64Array, rng: Rng): Float64Array {
  const rankOf = rng.permutation(nU);
  const w = new Float64Array(nU);
  for (let u = 0; u < nU; u++) w[u] = Math.exp(USER_SIGMA * normalQuantile((rankOf[u]! + 0.5) / nU));
  const reaching = new Float64Array(nU + 1);
  for (const c of movieCount) reaching[Math.min(c, nU)]++;
  const cap = new Float64Array(nU + 1);
  let moviesLeft = movieCount.length;
  let s = 0;
  for (let k = 1; k <= nU; k++) {
    s += moviesLeft;
    moviesLeft -= reaching[k]!;
    cap[k] = s - (1 - FIT) * Math.min(s, nR - s);
  }
  const target = scaleToSum(w, nR, 1, Infinity);
  const order = Int32Array.from({ length: nU }, (_, u) => u).sort((x, y) => w[y]! - w[x]!);
  const capped = new Uint8Array(nU);
  for (let round = 0; round < 100; round++) {
    let prefix = 0;
    let free = 0;
    for (let k = 1; k <= nU; k++) {
      const u = order[k - 1]!;
      const allowed = cap[k]! - prefix;
      if (target[u]! > allowed) {
        target[u] = Math.max(1, allowed);
        capped[u] = 1;
      }
      if (!capped[u]) free += target[u]!;
      prefix += target[u]!;
    }
    const deficit = nR - prefix;
    if (deficit < 1e-9 * nR || free === 0) break;
    const grow = (free + deficit) / free;
    for (let u = 0; u < nU; u++) if (!capped[u]) target[u] *= grow;
  }
  return target;
}

/** clamp(s·w_j, lo, hi) with s chosen (by bisection) so that the values sum to `total`. */
function scaleToSum(w: Float64Array, total: number, lo: number, hi: number): Float64Array {
  const sum = (s: number) => {
    let t = 0;
    for (let j = 0; j < w.length; j++) t += Math.min(hi, Math.max(lo, s * w[j]!));
    return t;
  };
  let wSum = 0;
  for (let j = 0; j < w.length; j++) wSum += w[j]!;
  let sLo = 0;
  let sHi = total / wSum;
  while (sum(sHi) < total) sHi *= 2;
  for (let it = 0; it < 80 && sHi - sLo > 1e-12 * sHi; it++) {
    const mid = (sLo + sHi) / 2;
    if (sum(mid) < total) sLo = mid;
    else sHi = mid;
  }
  return w.map((x) => Math.min(hi, Math.max(lo, sHi * x)));
}

/**
 * x ↦ Σ_j (1 − e^(−w_j·x)): the expected size of a sample that takes item j with probability
 * 1 − e^(−w_j·x), which is how order sampling with Exp(1)/w_j keys behaves at threshold x.
 * Weights are grouped into narrow log-spaced bins and the function is tabulated on a log grid of
 * x, so solving it for x, once per movie or per user, is a binary search.
 */
class SaturatingSum {
  private readonly xs: Float64Array;
  private readonly fs: Float64Array;
  private readonly wSum: number;

  constructor(w: Float64Array, bins = 512, grid = 1024) {
    let wMin = Infinity;
    let wMax = 0;
    let wSum = 0;
    for (let j = 0; j < w.length; j++) {
      wMin = Math.min(wMin, w[j]!);
      wMax = Math.max(wMax, w[j]!);
      wSum += w[j]!;
    }
    this.wSum = wSum;
    const lMin = Math.log(wMin);
    const width = Math.max(1e-9, (Math.log(wMax) - lMin) / bins);
    const count = new Float64Array(bins);
    const total = new Float64Array(bins);
    for (let j = 0; j < w.length; j++) {
      const b = Math.min(bins - 1, Math.floor((Math.log(w[j]!) - lMin) / width));
      count[b]++;
      total[b] += w[j]!;
    }
    const used: number[] = [];
    for (let b = 0; b < bins; b++) if (count[b]! > 0) used.push(b);
    const xLo = 0.5 / wSum;
    const xHi = Math.log(1000 * w.length) / wMin;
    this.xs = new Float64Array(grid);
    this.fs = new Float64Array(grid);
    for (let g = 0; g < grid; g++) {
      const x = xLo * Math.pow(xHi / xLo, g / (grid - 1));
      let f = 0;
      for (const b of used) f -= count[b]! * Math.expm1((-total[b]! / count[b]!) * x);
      this.xs[g] = x;
      this.fs[g] = f;
    }
  }

  /** The largest value the table reaches (just under the number of items). */
  get max(): number {
    return this.fs[this.fs.length - 1]!;
  }

  /** x with Σ_j (1 − e^(−w_j·x)) = target (clamped to the table's range). */
  solve(target: number): number {
    const fs = this.fs;
    if (target <= fs[0]!) return target / this.wSum;
    let lo = 0;
    let hi = fs.length - 1;
    if (target >= fs[hi]!) return this.xs[hi]!;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (fs[mid]! <= target) lo = mid;
      else hi = mid;
    }
    const t = (target - fs[lo]!) / (fs[hi]! - fs[lo]!);
    return this.xs[lo]! * Math.pow(this.xs[hi]! / this.xs[lo]!, t);
  }
}

/**
 * User weights a_u such that, when each movie i samples its c_i raters with inclusion
 * probabilities 1 − e^(−a_u·τ_i), user u's expected count is its target. Alternates the two
 * margins: τ_i from the movie counts given a, then a_u from the user targets given τ.
 */
function fitUserWeights(userTarget: Float64Array, movieCount: Float64Array): Float64Array {
  const a = Float64Array.from(userTarget);
  const tau = new Float64Array(movieCount.length);
  for (let it = 0; it < 50; it++) {
    const byUsers = new SaturatingSum(a);
    for (let i = 0; i < tau.length; i++) tau[i] = byUsers.solve(movieCount[i]!);
    const byMovies = new SaturatingSum(tau);
    let change = 0;
    for (let u = 0; u < a.length; u++) {
      const next = byMovies.solve(userTarget[u]!);
      change = Math.max(change, Math.abs(next - a[u]!) / a[u]!);
      a[u] = next;
    }
    if (change < 1e-4) break;
  }
  return a;
}

/**
 * Fills `user`/`movie` movie by movie: movie i's c_i raters are the users with the c_i smallest
 * keys Exp(1)/a_u (weighted sampling without replacement). Only users likely to qualify are
 * visited: a Poisson pre-sample at a slightly larger threshold τ, walked over users sorted by
 * weight with geometric skips, then the c_i smallest keys among them are kept.
 */
function sampleRaters(
  a: Float64Array,
  movieCount: Float64Array,
  starts: Float64Array,
  user: Int32Array,
  movie: Int32Array,
  rng: Rng,
  onMovie: (done: number) => void,
): void {
  const nU = a.length;
  const byWeight = Int32Array.from({ length: nU }, (_, u) => u).sort((x, y) => a[y]! - a[x]!);
  const sorted = Float64Array.from(byWeight, (u) => a[u]!);
  const table = new SaturatingSum(a);
  const keys = new Float64Array(nU);
  const picks = new Int32Array(nU);
  for (let i = 0; i < movieCount.length; i++) {
    const c = movieCount[i]!;
    const want = c + 3 * Math.sqrt(c) + 4;
    let tau = want >= table.max ? Infinity : table.solve(want);
    let k = poissonKeys(sorted, tau, rng, keys, picks);
    while (k < c) {
      tau *= 2;
      k = poissonKeys(sorted, tau, rng, keys, picks);
    }
    if (k > c) selectSmallest(keys, picks, k, c);
    const s = starts[i]!;
    for (let t = 0; t < c; t++) {
      user[s + t] = byWeight[picks[t]!]!;
      movie[s + t] = i;
    }
    onMovie(s + c);
  }
  fillEmptyUsers(user, nU, rng);
}

/** Poisson sample of positions j (weights `sorted` descending) with probability 1 − e^(−w_j·τ), each with its key Exp(1)/w_j conditioned on being below τ. Returns the count. */
function poissonKeys(sorted: Float64Array, tau: number, rng: Rng, keys: Float64Array, picks: Int32Array): number {
  const n = sorted.length;
  let k = 0;
  let j = 0;
  // Saturated weights (probability 1 to double precision): take every one.
  while (j < n && sorted[j]! * tau > 36) {
    keys[k] = -Math.log1p(-rng.next()) / sorted[j]!;
    picks[k++] = j++;
  }
  if (j >= n) return k;
  // Probabilities only fall from here: skip geometrically with the current bound, then thin.
  let bound = sorted[j]! * tau;
  let pBound = -Math.expm1(-bound);
  while (true) {
    j += Math.floor(-Math.log1p(-rng.next()) / bound);
    if (j >= n) return k;
    const x = sorted[j]! * tau;
    const p = -Math.expm1(-x);
    if (rng.next() * pBound < p) {
      keys[k] = -Math.log1p(-rng.next() * p) / sorted[j]!;
      picks[k++] = j;
    }
    bound = x;
    pBound = p;
    j++;
  }
}

/** Reorders keys[0..n) (and picks alongside) so the c smallest keys come first (quickselect). */
function selectSmallest(keys: Float64Array, picks: Int32Array, n: number, c: number): void {
  let lo = 0;
  let hi = n - 1;
  const target = c - 1;
  while (lo < hi) {
    const pivot = keys[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[i]! < pivot) i++;
      while (keys[j]! > pivot) j--;
      if (i <= j) {
        const tk = keys[i]!;
        keys[i] = keys[j]!;
        keys[j] = tk;
        const tp = picks[i]!;
        picks[i] = picks[j]!;
        picks[j] = tp;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/** Gives each user left without ratings one, taken from a random rating of a user with two or more. */
function fillEmptyUsers(user: Int32Array, nU: number, rng: Rng): void {
  const count = new Int32Array(nU);
  for (let r = 0; r < user.length; r++) count[user[r]!]++;
  for (let u = 0; u < nU; u++) {
    if (count[u] !== 0) continue;
    for (;;) {
      const r = rng.int(user.length);
      if (count[user[r]!]! < 2) continue;
      count[user[r]!]--;
      user[r] = u;
      count[u] = 1;
      break;
    }
  }
}

/** A day per rating, uniform within its user's active range; users join at a growing rate. */
function drawDays(user: Int32Array, nU: number, rng: Rng): Int32Array {
  const span = LAST_DAY - FIRST_DAY + 1;
  const g = Math.log(JOIN_GROWTH_PER_YEAR) / 365.25;
  const first = new Int32Array(nU);
  const length = new Int32Array(nU);
  for (let u = 0; u < nU; u++) {
    const join = Math.min(span - 1, Math.floor(Math.log1p(rng.next() * Math.expm1(g * span)) / g));
    const left = span - join;
    first[u] = FIRST_DAY + join;
    length[u] = rng.next() < STAY_ACTIVE ? left : 1 + Math.floor(rng.next() * left);
  }
  const day = new Int32Array(user.length);
  for (let r = 0; r < user.length; r++) {
    const u = user[r]!;
    day[r] = first[u]! + Math.floor(rng.next() * length[u]!);
  }
  return day;
}

// ---------------------------------------------------------------------------------------------
// Movie titles and years

const ADJECTIVES = ["Silent", "Lost", "Golden", "Last", "Hidden", "Broken", "Wild", "Crimson", "Distant", "Little", "Midnight", "Electric"];
const NOUNS = ["River", "Night", "Falcon", "Garden", "Winter", "Shadow", "Empire", "Island", "Stranger", "Promise", "Harbor", "Mirror", "Dragon", "Journey", "Secret", "Storm"];
const LATIN1_WORDS = ["Amélie", "Café", "Señor", "Déjà Vu", "Fräulein", "Noël", "Göteborg", "Año Nuevo", "Über Alles", "Crème Brûlée"];
/** Netflix: 7 of 17,770 movies have no year. */
const NULL_YEAR_SHARE = 7 / 17_770;

/**
 * Titles (latin-1 only; some with commas, some accented) and release years (recent years more
 * common, never after the movie's first rating; a few unknown, stored as 0).
 */
function movieTitles(nM: number, r: Ratings, starts: Float64Array, seed: number): { titles: string[]; years: Int32Array } {
  const rng = streamRng(seed, Stream.titles);
  const pick = (list: readonly string[]) => list[rng.int(list.length)]!;
  const titles: string[] = new Array(nM);
  const years = new Int32Array(nM);
  for (let i = 0; i < nM; i++) {
    const kind = rng.next();
    if (kind < 0.08) titles[i] = `${pick(NOUNS)}, ${pick(ADJECTIVES)} ${pick(NOUNS)}`;
    else if (kind < 0.12) titles[i] = `${pick(LATIN1_WORDS)} ${pick(NOUNS)}`;
    else if (kind < 0.2) titles[i] = `${pick(NOUNS)}: Season ${1 + rng.int(7)}`;
    else if (kind < 0.5) titles[i] = `${pick(NOUNS)} of the ${pick(NOUNS)}`;
    else titles[i] = `The ${pick(ADJECTIVES)} ${pick(NOUNS)}`;
    let firstDay = Infinity;
    for (let x = starts[i]!; x < starts[i + 1]!; x++) firstDay = Math.min(firstDay, r.day[x]!);
    const firstYear = new Date(firstDay * 86_400_000).getUTCFullYear();
    years[i] = Math.min(firstYear, Math.max(1915, 2005 - Math.floor(-10 * Math.log1p(-rng.next()))));
  }
  const unknown = Math.max(1, Math.round(nM * NULL_YEAR_SHARE));
  for (let t = 0; t < unknown; t++) years[rng.int(nM)] = 0;
  return { titles, years };
}

// ---------------------------------------------------------------------------------------------
// Netflix Prize text output

/**
 * Writes a generated dataset (ratings grouped by movie) as the Netflix Prize text layout into
 * `dir`: combined_data_1..4.txt (contiguous movie ranges of about equal rating counts), latin-1
 * movie_titles.txt and generator.json. Returns the file names.
 */
export async function writeNetflixText(dir: string, ds: Dataset, generator: GeneratorRecord, onProgress: (done: number) => void): Promise<string[]> {
  const { user, movie, rating, day } = ds.ratings;
  const n = user.length;
  const nM = ds.movies.length;
  const ids = ds.users as Int32Array;
  const dates = dateTable(ds.meta.dayRange!.min, ds.meta.dayRange!.max);
  const dayMin = ds.meta.dayRange!.min;
  const nFiles = Math.min(NETFLIX_FILES, nM);
  const files: string[] = [];
  let r = 0;
  let lastMovie = -1;
  for (let f = 0; f < nFiles; f++) {
    const name = `combined_data_${f + 1}.txt`;
    files.push(name);
    // Each file ends with the movie holding its share's last rating, but has at least one movie
    // and leaves one for each later file.
    const atShare = movie[Math.max(0, Math.ceil(((f + 1) * n) / nFiles) - 1)]!;
    lastMovie = f === nFiles - 1 ? nM - 1 : Math.max(lastMovie + 1, Math.min(nM - nFiles + f, atShare));
    const out = await BufferedFile.open(join(dir, name));
    try {
      let current = -1;
      while (r < n && movie[r]! <= lastMovie) {
        if (out.full) await out.flush();
        const i = movie[r]!;
        if (i !== current) {
          out.ascii(`${ds.movies[i]}:\n`);
          current = i;
        }
        out.ratingLine(ids[user[r]!]!, rating[r]!, dates, day[r]! - dayMin);
        if ((++r & 0xfffff) === 0) onProgress(r);
      }
      await out.flush();
    } finally {
      await out.close();
    }
  }
  onProgress(n);
  await writeNetflixTitles(dir, ds);
  await fsp.writeFile(join(dir, "generator.json"), JSON.stringify(generator, null, 2) + "\n");
  return [...files, "movie_titles.txt", "generator.json"];
}

/** Writes a generated dataset's titles and years as Netflix's latin-1 `movie_titles.txt` in `dir`. */
export async function writeNetflixTitles(dir: string, ds: Dataset): Promise<void> {
  const titles = ds.titles!;
  const years = ds.years!;
  const lines: string[] = new Array(ds.movies.length);
  for (let i = 0; i < lines.length; i++) lines[i] = `${ds.movies[i]},${years[i] === 0 ? "NULL" : years[i]},${titles[i]}\n`;
  await fsp.writeFile(join(dir, "movie_titles.txt"), Buffer.from(lines.join(""), "latin1"));
}

/** `YYYY-MM-DD` as 10 ASCII bytes per day from dayMin to dayMax. */
export function dateTable(dayMin: number, dayMax: number): Uint8Array {
  const t = new Uint8Array((dayMax - dayMin + 1) * 10);
  for (let d = dayMin; d <= dayMax; d++) t.set(Buffer.from(new Date(d * 86_400_000).toISOString().slice(0, 10), "latin1"), (d - dayMin) * 10);
  return t;
}

/** Writes the decimal digits of a non-negative integer at `p`; returns the position after them. */
function writeUint(buf: Uint8Array, p: number, v: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let q = p + digits - 1; q >= p; q--) {
    buf[q] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return p + digits;
}

/**
 * A file written through one large buffer: callers fill `buf` from `pos` and flush when `full`.
 * Writers of many small files pass one buffer to every `open` (at least 256 bytes; not shared by
 * two open files at once).
 */
export class BufferedFile {
  pos = 0;

  private constructor(
    private readonly fh: fsp.FileHandle,
    readonly buf: Buffer,
  ) {}

  static async open(path: string, buf: Buffer = Buffer.allocUnsafe(WRITE_BUFFER)): Promise<BufferedFile> {
    return new BufferedFile(await fsp.open(path, "wx"), buf);
  }

  /** True when fewer than 256 bytes are left (more than any one line needs). */
  get full(): boolean {
    return this.pos > this.buf.length - 256;
  }

  /** Appends `CustomerID,Rating,YYYY-MM-DD` and a line end; `d` is the day's index in `dates` (a dateTable). */
  ratingLine(customerId: number, rating: number, dates: Uint8Array, d: number): void {
    const buf = this.buf;
    let p = writeUint(buf, this.pos, customerId);
    buf[p++] = 44;
    buf[p++] = 48 + rating;
    buf[p++] = 44;
    for (let c = 0, at = d * 10; c < 10; c++) buf[p + c] = dates[at + c]!;
    buf[p + 10] = 10;
    this.pos = p + 11;
  }

  /** Appends `CustomerID` (and `,YYYY-MM-DD` when `dates` is given, `d` as in ratingLine) and a line end. */
  queryLine(customerId: number, dates: Uint8Array | null, d: number): void {
    const buf = this.buf;
    let p = writeUint(buf, this.pos, customerId);
    if (dates) {
      buf[p++] = 44;
      for (let c = 0, at = d * 10; c < 10; c++) buf[p + c] = dates[at + c]!;
      p += 10;
    }
    buf[p] = 10;
    this.pos = p + 1;
  }

  /** Appends a short ASCII string (the caller flushes first when `full`). */
  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, "latin1");
  }

  async flush(): Promise<void> {
    let off = 0;
    while (off < this.pos) off += (await this.fh.write(this.buf, off, this.pos - off)).bytesWritten;
    this.pos = 0;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Small numeric helpers

/** Piecewise-linear interpolation through sorted knots, extended linearly beyond the end knots. */
function interpolate(knots: ReadonlyArray<readonly [number, number]>, x: number): number {
  let k = 1;
  while (k < knots.length - 1 && x > knots[k]![0]) k++;
  const [x0, y0] = knots[k - 1]!;
  const [x1, y1] = knots[k]!;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
